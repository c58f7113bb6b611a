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
final class ServeHandler: ConnectionHandler, @unchecked Sendable {
    private let statistics: ServeStatistics
    private let logger: Logger
    private let peer: PeerInfo
    private var requests = 0
    private var dataFrames = 0
    // The rate run in progress on this connection, if any.
    private var rateActive = false
    private var rateExpected: UInt64 = 0
    private var rateReceived: UInt64 = 0
    private var rateCorrelation: UInt64 = 0
    /// Replies larger than one reservation (and those queued behind them).
    private let offThread = OffThreadSender()

    /// How long the IO thread may wait for send space before it gives up on the connection.
    private static let sendSpaceTimeoutNanoseconds: UInt64 = 5_000_000_000

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
            dataFrames &+= 1
            if rateActive && header.channel == BenchProtocol.rateChannel {
                rateReceived &+= 1
                if rateReceived == rateExpected {
                    frame.release()
                    finishRate(on: connection)
                }
            }
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

    func closed(_ connection: any TransportConnection, error: TransportError?) {
        statistics.requests.add(requests, ordering: .relaxed)
        statistics.dataFrames.add(dataFrames, ordering: .relaxed)
        if let error {
            logger.warning("connection from \(peer) failed: \(error)")
        } else {
            logger.info("connection from \(peer) closed after \(requests) requests and \(dataFrames) data frames")
        }
    }

    private func echo(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        let header = frame.header
        let length = frame.count
        if length > connection.maxReservation || offThread.mustQueue {
            let copy = frame.payloadBytes()
            frame.release()
            let peer = self.peer
            let logger = self.logger
            offThread.send(
                copy, header: FrameHeader(kind: .response, channel: header.channel, correlation: header.correlation),
                on: connection
            ) { error in
                logger.warning("cannot answer \(peer): \(error)")
            }
            return
        }
        guard let reservation = reserve(length, on: connection) else { return }
        if length > 0 {
            let destination = reservation.payload.baseAddress!
            frame.withPayload { destination.copyMemory(from: $0.baseAddress!, byteCount: length) }
        }
        frame.release()
        reservation.commit(
            kind: .response, length: length, channel: header.channel, correlation: header.correlation)
    }

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
        guard let reservation = reserve(8, on: connection) else { return }
        BenchProtocol.storeCount(rateReceived, into: reservation.payload)
        reservation.commit(
            kind: .response, length: 8, channel: BenchProtocol.rateChannel, correlation: rateCorrelation)
    }

    /// Reserves on the IO thread. On back-pressure it pushes out what is pending and waits
    /// briefly; a peer that stops draining for the whole timeout loses its connection.
    private func reserve(_ capacity: Int, on connection: any TransportConnection) -> SendReservation? {
        var backoff = Backoff()
        var deadline: UInt64 = 0
        while true {
            do throws(TransportError) {
                return try connection.reserve(capacity: capacity)
            } catch .wouldBlock {
                connection.flush()
                let now = monotonicNanoseconds()
                if deadline == 0 { deadline = now + Self.sendSpaceTimeoutNanoseconds }
                if now >= deadline {
                    logger.error("\(peer) stopped draining its connection; closing it")
                    connection.close()
                    return nil
                }
                backoff.pause()
            } catch {
                logger.warning("cannot answer \(peer): \(error)")
                return nil
            }
        }
    }
}
