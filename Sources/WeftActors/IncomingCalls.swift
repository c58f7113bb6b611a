import Synchronization
import WeftCore

/// Back-pressure for the calls one connection brings in.
///
/// A call counts from its request until its reply is handed to the connection. At
/// `limit` such calls, the connection's next request is kept unserved and its frame held,
/// which stops the connection reading: a peer that sends calls and never reads the replies
/// stalls on its own connection, and this node's memory for it stays bounded (at most
/// `limit` calls and replies), while every other connection is served.
///
/// A reply never waits for send space on any thread: one the connection cannot take at
/// once is queued here and sent from the connection's IO thread as space returns.
final class IncomingCalls: @unchecked Sendable {
    let limit: Int
    private let unanswered = Atomic<Int>(0)
    private let queue = Locked<QueuedReplies>(QueuedReplies())
    private let draining = Atomic<Bool>(false)
    /// The request held while `limit` calls are unanswered (IO thread only).
    private var parked: CallPayload?
    /// Starts serving a request (the connection handler's way in; IO thread).
    private let start: (CallPayload, any TransportConnection) -> Void

    init(limit: Int, start: @escaping (CallPayload, any TransportConnection) -> Void) {
        self.limit = max(1, limit)
        self.start = start
    }

    /// Calls taken from the connection and not yet answered (tests and statistics).
    var unansweredCount: Int { unanswered.load(ordering: .relaxed) }
    /// Replies waiting for send space.
    var queuedCount: Int { queue.withLock { $0.count } }

    /// A request arrived (IO thread): serve it, or hold it while `limit` calls are unanswered.
    func received(_ payload: CallPayload, on connection: any TransportConnection) {
        guard parked == nil, unanswered.load(ordering: .acquiring) < limit else {
            parked = payload
            return
        }
        unanswered.add(1, ordering: .relaxed)
        start(payload, connection)
    }

    /// A call's reply went to the connection, or the call ended without one.
    func answered(on connection: any TransportConnection) {
        let before = unanswered.subtract(1, ordering: .acquiringAndReleasing).oldValue
        if before == limit { connection.ioThread.execute { [self] in resumeParked(on: connection) } }
    }

    private func resumeParked(on connection: any TransportConnection) {
        guard let payload = parked, unanswered.load(ordering: .acquiring) < limit else { return }
        parked = nil
        unanswered.add(1, ordering: .relaxed)
        start(payload, connection)
    }

    /// The connection ended: a held request is let go, queued replies dropped.
    func connectionClosed() {
        parked = nil
        queue.withLock { $0.removeAll() }
    }

    // MARK: Replies that waited

    /// Queues an encoded reply and makes sure the IO thread is sending (any thread).
    func queue(_ bytes: [UInt8], header: FrameHeader, on connection: any TransportConnection) {
        queue.withLock { $0.append(QueuedReply(bytes: bytes, header: header)) }
        scheduleDrain(on: connection)
    }

    private func scheduleDrain(on connection: any TransportConnection) {
        guard !draining.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if !connection.ioThread.execute({ [self] in drain(on: connection) }) {
            draining.store(false, ordering: .releasing)
        }
    }

    /// Sends queued replies in order while the connection takes them (IO thread), and tries
    /// again about a millisecond later when it does not.
    private func drain(on connection: any TransportConnection) {
        while let reply = queue.withLock({ $0.first }) {
            switch reply.sendNext(on: connection) {
            case .sent:
                queue.withLock { $0.removeFirst() }
                answered(on: connection)
            case .partly(let offset):
                queue.withLock { $0.setFirstOffset(offset) }
                connection.ioThread.retryLater { [self] in drain(on: connection) }
                return
            case .wouldBlock:
                connection.ioThread.retryLater { [self] in drain(on: connection) }
                return
            case .failed:
                // The connection is closing; its end fails the caller's call.
                queue.withLock { $0.removeAll() }
                draining.store(false, ordering: .releasing)
                return
            }
        }
        draining.store(false, ordering: .releasing)
        if queue.withLock({ $0.count }) > 0 { scheduleDrain(on: connection) }
    }
}

/// Encoded replies in arrival order (a ring of arrays: no copy when the front leaves).
struct QueuedReplies {
    private var items: [QueuedReply] = []
    private var head = 0

    var count: Int { items.count - head }
    var first: QueuedReply? { head < items.count ? items[head] : nil }

    mutating func append(_ reply: QueuedReply) { items.append(reply) }

    mutating func setFirstOffset(_ offset: Int) { items[head].offset = offset }

    mutating func removeFirst() {
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}

/// One reply waiting for space; large ones go out as fragments, as many as fit each time.
struct QueuedReply {
    let bytes: [UInt8]
    let header: FrameHeader
    /// Payload bytes already sent as fragments.
    var offset = 0

    enum Progress {
        case sent
        case partly(offset: Int)
        case wouldBlock
        case failed
    }

    /// Sends what the connection takes now, without waiting.
    func sendNext(on connection: any TransportConnection) -> Progress {
        let chunk = max(connection.maxReservation, 1)
        if offset == 0 && bytes.count <= chunk {
            do {
                var reservation = try connection.reserve(capacity: bytes.count)
                copy(0..<bytes.count, into: &reservation)
                var frame = header
                frame.payloadLength = UInt32(bytes.count)
                reservation.commit(frame)
                return .sent
            } catch .wouldBlock {
                connection.flush()
                return .wouldBlock
            } catch {
                return .failed
            }
        }
        var sent = offset
        while sent < bytes.count {
            let length = min(chunk, bytes.count - sent)
            var reservation: SendReservation
            do { reservation = try connection.reserve(capacity: length) } catch .wouldBlock {
                connection.flush()
                return sent == offset ? .wouldBlock : .partly(offset: sent)
            } catch {
                return .failed
            }
            copy(sent..<(sent + length), into: &reservation)
            reservation.commit(FragmentingSender.fragment(of: header, length: length, at: sent, total: bytes.count))
            sent += length
        }
        return .sent
    }

    private func copy(_ range: Range<Int>, into reservation: inout SendReservation) {
        guard !range.isEmpty else { return }
        bytes.withUnsafeBytes { source in
            reservation.payload.baseAddress!.copyMemory(from: source.baseAddress! + range.lowerBound, byteCount: range.count)
        }
    }
}
