/// The receiving side's rendezvous on one connection, oldest first (IO thread): READs posted,
/// frames read and waiting their turn, and the frame handed up. Their frames lie one after
/// another in the read region (`region`); each is freed, in order, once handled.
///
/// ```
/// front ........ completed ........ back
///   | read, waiting |  READ posted   |
/// ```
struct PendingReads {
    struct Read: Equatable {
        /// Where the frame lies in the read region (ring positions) and its length.
        var start: UInt64
        var end: UInt64
        var length: Int
        /// The sender's token, echoed in `rendezvousDone`.
        var token: UInt64
    }

    private(set) var region: RendezvousRing
    private var regionHead: UInt64 = 0
    private let entries: UnsafeMutablePointer<Read>
    private var front: UInt64 = 0
    private var completed: UInt64 = 0
    private var back: UInt64 = 0
    /// The front frame is with the handler (held); it is freed when released.
    var frontHeld = false

    init(regionBytes: Int) {
        region = RendezvousRing(capacity: regionBytes)
        entries = .allocate(capacity: VerbsConfiguration.maxRendezvousInFlight)
    }

    /// Frees the entries' storage; the owner calls it once, when it goes.
    func deallocate() { entries.deallocate() }

    var isEmpty: Bool { front == back }
    /// The oldest frame has been read and waits to be handed up (or is with the handler).
    var frontIsRead: Bool { front < completed }
    var frontRead: Read { entries[Int(front % UInt64(VerbsConfiguration.maxRendezvousInFlight))] }

    /// A frame of `length` bytes to read: its place, or nil while the region or the queue is full.
    mutating func add(length: Int, token: UInt64) -> Read? {
        guard back - front < UInt64(VerbsConfiguration.maxRendezvousInFlight),
            let start = region.place(length, head: regionHead)
        else { return nil }
        let read = Read(start: start, end: region.tail, length: length, token: token)
        entries[Int(back % UInt64(VerbsConfiguration.maxRendezvousInFlight))] = read
        back += 1
        return read
    }

    /// The next READ completed (they complete in the order posted); nil when none is posted.
    mutating func complete() -> Read? {
        guard completed < back else { return nil }
        let read = entries[Int(completed % UInt64(VerbsConfiguration.maxRendezvousInFlight))]
        completed += 1
        return read
    }

    /// The front frame was handled: its bytes are free.
    mutating func freeFront() {
        guard front < completed else { return }
        regionHead = frontRead.end
        front += 1
        frontHeld = false
    }
}
