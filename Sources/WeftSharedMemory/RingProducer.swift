import CWeftSharedMemory
import WeftCore

/// The sending end of one single-producer/single-consumer ring. Only one thread at a time
/// may use it (the connection's send side guarantees that).
struct RingProducer {
    let ring: RingMemory
    let mask: UInt64
    /// Signals the consumer's eventfd when it sleeps; -1 when the consumer only spins
    /// (then no fence and no flag check per message: decided at setup).
    let consumerWakeFD: Int32
    /// False when the consumer runs a global membarrier before it sleeps and this process is
    /// registered for it (`WakeProtocol.consumerBarrier`): a compiler barrier does then.
    let fencesBeforeWakeCheck: Bool
    private(set) var tail: UInt64
    private var cachedHead: UInt64
    private var reservedEnd: UInt64 = 0

    init(ring: RingMemory, consumerWakeFD: Int32, fencesBeforeWakeCheck: Bool = true) {
        self.ring = ring
        mask = ring.size - 1
        self.consumerWakeFD = consumerWakeFD
        self.fencesBeforeWakeCheck = fencesBeforeWakeCheck
        tail = SharedMemoryLayout.firstPosition(ringBytes: ring.size)
        cachedHead = tail
    }

    /// Largest payload one record may carry: a quarter of the ring keeps several in flight.
    var maxPayload: Int { Int(ring.size / 4) - SharedMemoryLayout.tagSize - FrameLayout.headerSize }

    /// Space for a frame with `capacity` payload bytes: the frame's address and its position,
    /// or nil when the consumer has not freed enough yet.
    @inline(__always)
    mutating func reserve(capacity: Int) -> (frame: UnsafeMutableRawPointer, position: UInt64)? {
        guard let (record, position) = reserveRecords(bytes: SharedMemoryLayout.recordSize(payload: capacity)) else {
            return nil
        }
        return (record + SharedMemoryLayout.tagSize, position)
    }

    /// Space for records of `need` bytes in all (a multiple of the record alignment, at most a
    /// quarter of the ring) that does not cross the ring's end: where the first record starts
    /// (its tag) and its position, or nil when the consumer has not freed enough yet.
    @inline(__always)
    mutating func reserveRecords(bytes need: UInt64) -> (record: UnsafeMutableRawPointer, position: UInt64)? {
        var position = tail
        let offset = position & mask
        let padding = offset + need > ring.size ? ring.size - offset : 0
        let end = position &+ padding &+ need
        if end &- cachedHead > ring.size {
            cachedHead = cweft_load_acquire_u64(ring.head)
            if end &- cachedHead > ring.size { return nil }
        }
        if padding > 0 {
            cweft_store_release_u64(tagPointer(offset), position | SharedMemoryLayout.paddingBit)
            position &+= padding
            tail = position
        }
        reservedEnd = position &+ need
        return (ring.data + Int(position & mask), position)
    }

    /// A reservation dropped unpublished: its payload may have reached inner slot starts,
    /// which must read as "no record" when later records begin there.
    mutating func abandon(position: UInt64) {
        var slot = position &+ SharedMemoryLayout.recordAlignment
        while slot < reservedEnd {
            tagPointer(slot & mask).pointee = 0
            slot &+= SharedMemoryLayout.recordAlignment
        }
    }

    /// Publishes the record at `position` whose frame header says `payloadLength`.
    @inline(__always)
    mutating func publish(position: UInt64, payloadLength: Int) {
        let next = position &+ SharedMemoryLayout.recordSize(payload: payloadLength)
        cweft_store_release_u64(tagPointer(position & mask), position)
        tail = next
        if consumerWakeFD >= 0 { wakeConsumerIfAsleep() }
    }

    /// Publishes the records written in `bytes` bytes from `position` (a batch), in order, and
    /// signals a sleeping consumer once for all of them. Each record's size comes from its
    /// header's length; the peer maps this ring too and may rewrite it meanwhile, so the walk
    /// stays inside `bytes` and moves at least one slot a record: a rewrite garbles only what
    /// the peer itself reads.
    @inline(__always)
    mutating func publishRecords(position start: UInt64, bytes: Int) {
        let end = start &+ UInt64(bytes)
        var position = start
        while position < end {
            let frame = ring.data + Int(position & mask) + SharedMemoryLayout.tagSize
            let length = UInt32(
                littleEndian: frame.loadUnaligned(fromByteOffset: FrameLayout.payloadLengthOffset, as: UInt32.self))
            let size = min(SharedMemoryLayout.recordSize(payload: Int(length)), end &- position)
            if position != start { cweft_store_release_u64(tagPointer(position & mask), position) }
            position &+= size
        }
        // The first tag last: a consumer that caught up spins on the first record's line
        // only; the others fill without it pulling at them, and are all there when it looks.
        cweft_store_release_u64(tagPointer(start & mask), start)
        tail = end
        if consumerWakeFD >= 0 { wakeConsumerIfAsleep() }
    }

    /// The producer's half of the wake-up handshake, after a tag store: the store must be
    /// visible before `sleeping` is read, or both sides could miss each other (see
    /// `RingConsumer.hasWork`).
    @inline(__always)
    private func wakeConsumerIfAsleep() {
        if fencesBeforeWakeCheck {
            cweft_full_fence()
            if cweft_load_u32_seq_cst(ring.sleeping) != 0 { SharedMemorySyscalls.signal(consumerWakeFD) }
        } else {
            cweft_compiler_fence()
            if cweft_load_relaxed_u32(ring.sleeping) != 0 { SharedMemorySyscalls.signal(consumerWakeFD) }
        }
    }

    @inline(__always)
    private func tagPointer(_ offset: UInt64) -> UnsafeMutablePointer<UInt64> {
        (ring.data + Int(offset)).assumingMemoryBound(to: UInt64.self)
    }
}
