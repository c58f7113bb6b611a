import Logging
import Synchronization
import WeftCore

/// Totals over every connection of one `weft serve`.
final class ServeStatistics: Sendable {
    let connections = Atomic<Int>(0)
    let requests = Atomic<Int>(0)
    let dataFrames = Atomic<Int>(0)
}

/// One connection of `weft serve`: echoes requests and counts data frames (`BenchProtocol`).
/// Runs on the connection's IO thread; its counters are confined to it.
final class ServeHandler: BatchConnectionHandler, @unchecked Sendable {
    private let statistics: ServeStatistics
    private let logger: Logger
    private let peer: PeerInfo
    // Confined to the IO thread and never accessed across a call that could reach them
    // again: no dynamic exclusivity check per frame (`@exclusivity(unchecked)`).
    @exclusivity(unchecked) private var requests = 0
    @exclusivity(unchecked) private var dataFrames = 0
    // The rate run in progress on this connection, if any.
    @exclusivity(unchecked) private var rateActive = false
    @exclusivity(unchecked) private var rateExpected: UInt64 = 0
    @exclusivity(unchecked) private var rateReceived: UInt64 = 0
    @exclusivity(unchecked) private var rateCorrelation: UInt64 = 0
    /// Replies larger than one reservation (and those queued behind them).
    private let offThread = OffThreadSender()
    /// Replies that met back-pressure (the peer does not read), retried in order on the IO
    /// thread; later replies wait behind them. An echo keeps its request frame held
    /// meanwhile, which stops this connection reading: the peer stalls on its own connection,
    /// memory stays bounded (a rate count and one echo at most), and the IO thread goes on
    /// serving every other connection.
    @exclusivity(unchecked) private var blocked: [BlockedReply] = []

    init(peer: PeerInfo, statistics: ServeStatistics, logger: Logger) {
        self.peer = peer
        self.statistics = statistics
        self.logger = logger
        statistics.connections.add(1, ordering: .relaxed)
        logger.info("connection from \(peer)")
    }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        let header = frame.header
        switch header.kind {
        case .data:
            frame.release()
            countData(channel: header.channel, on: connection)
        case .request:
            requests &+= 1
            if header.channel == BenchProtocol.rateChannel {
                startRate(frame, on: connection)
            } else {
                echo(frame, on: connection)
            }
        default:
            break
        }
    }

    /// Data frames in a run (shared memory): counted like those that come one at a time.
    func received(_ batch: borrowing ReceivedBatch, on connection: any TransportConnection) {
        for index in 0..<batch.count { countData(channel: batch[index].header.channel, on: connection) }
    }

    @inline(__always)
    private func countData(channel: UInt32, on connection: any TransportConnection) {
        dataFrames &+= 1
        guard rateActive && channel == BenchProtocol.rateChannel else { return }
        rateReceived &+= 1
        if rateReceived == rateExpected { finishRate(on: connection) }
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {
        for case .echo(let request) in blocked { request.release() }
        blocked.removeAll()
        statistics.requests.add(requests, ordering: .relaxed)
        statistics.dataFrames.add(dataFrames, ordering: .relaxed)
        if let error {
            logger.warning("connection from \(peer) failed: \(error)")
        } else {
            logger.info("connection from \(peer) closed after \(requests) requests and \(dataFrames) data frames")
        }
    }

    private func echo(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        if blocked.isEmpty && answer(frame.header, payload: frame.payloadBaseAddress, on: connection) { return }
        // Rare (the peer does not read): only then is the frame boxed to be kept.
        wait(.echo(HeldRequest(frame)), on: connection)
    }

    /// Echoes a request if the connection takes it now; false on back-pressure (true too when
    /// the connection failed: the request is then let go).
    private func answer(_ request: FrameHeader, payload: UnsafeRawPointer, on connection: any TransportConnection) -> Bool {
        let length = Int(request.payloadLength)
        if length > connection.maxReservation || offThread.mustQueue {
            let response = FrameHeader(kind: .response, channel: request.channel, correlation: request.correlation)
            // Copies wait there for space: a few at most, then this connection waits too.
            guard offThread.queued < Self.maxRepliesOffThread else { return false }
            let peer = self.peer
            let logger = self.logger
            offThread.send(Array(UnsafeRawBufferPointer(start: payload, count: length)), header: response, on: connection) {
                error in logger.warning("cannot answer \(peer): \(error)")
            }
            return true
        }
        guard let reservation = reserve(length, on: connection) else { return connection.isClosed }
        if length > 0 { reservation.payload.baseAddress!.copyMemory(from: payload, byteCount: length) }
        reservation.commit(kind: .response, length: length, channel: request.channel, correlation: request.correlation)
        return true
    }

    private static let maxRepliesOffThread = 4

    private func startRate(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        guard let expected = frame.withPayload({ BenchProtocol.loadCount(from: $0) }) else {
            logger.warning("rate request from \(peer) has no count; closing the connection")
            connection.close()
            return
        }
        rateActive = true
        rateExpected = expected
        rateReceived = 0
        rateCorrelation = frame.header.correlation
        frame.release()
        if expected == 0 { finishRate(on: connection) }
    }

    private func finishRate(on connection: any TransportConnection) {
        rateActive = false
        if offThread.mustQueue {
            var count = [UInt8](repeating: 0, count: 8)
            count.withUnsafeMutableBytes { BenchProtocol.storeCount(rateReceived, into: $0) }
            let logger = self.logger
            offThread.send(
                count, header: FrameHeader(kind: .response, channel: BenchProtocol.rateChannel, correlation: rateCorrelation),
                on: connection
            ) { error in logger.warning("cannot finish the rate run: \(error)") }
            return
        }
        if !blocked.isEmpty || !answerCount(rateReceived, correlation: rateCorrelation, on: connection) {
            wait(.count(rateReceived, correlation: rateCorrelation), on: connection)
        }
    }

    private func answerCount(_ count: UInt64, correlation: UInt64, on connection: any TransportConnection) -> Bool {
        guard let reservation = reserve(8, on: connection) else { return connection.isClosed }
        BenchProtocol.storeCount(count, into: reservation.payload)
        reservation.commit(kind: .response, length: 8, channel: BenchProtocol.rateChannel, correlation: correlation)
        return true
    }

    /// Reserves on the IO thread without waiting: nil on back-pressure (after pushing out
    /// what is pending), or when the connection failed (then the request is let go).
    private func reserve(_ capacity: Int, on connection: any TransportConnection) -> SendReservation? {
        do throws(TransportError) {
            return try connection.reserve(capacity: capacity)
        } catch .wouldBlock {
            connection.flush()
            return nil
        } catch {
            logger.warning("cannot answer \(peer): \(error)")
            return nil
        }
    }

    /// Keeps the reply and tries again from the IO thread, about every millisecond.
    private func wait(_ reply: BlockedReply, on connection: any TransportConnection) {
        blocked.append(reply)
        guard blocked.count == 1 else { return }
        logger.debug("\(peer) does not read its replies; its connection waits")
        connection.ioThread.retryLater { [self] in retryBlocked(on: connection) }
    }

    private func retryBlocked(on connection: any TransportConnection) {
        while let reply = blocked.first {
            let done: Bool
            switch reply {
            case .echo(let request):
                done = request.isReleased || answer(request.header, payload: request.payload, on: connection)
            case .count(let count, let correlation): done = answerCount(count, correlation: correlation, on: connection)
            }
            guard done || connection.isClosed else {
                connection.ioThread.retryLater { [self] in retryBlocked(on: connection) }
                return
            }
            if case .echo(let request) = reply { request.release() }
            blocked.removeFirst()
        }
    }
}

/// A reply waiting for send space.
private enum BlockedReply {
    case echo(HeldRequest)
    case count(UInt64, correlation: UInt64)
}

/// A request frame kept unreleased while its reply waits: holding it pauses the connection.
private final class HeldRequest {
    private var frame: ReceivedFrame?
    let header: FrameHeader
    let payload: UnsafeRawPointer

    init(_ frame: consuming ReceivedFrame) {
        header = frame.header
        payload = frame.payloadBaseAddress
        self.frame = consume frame
    }

    var isReleased: Bool { frame == nil }
    func release() { frame = nil }
}
