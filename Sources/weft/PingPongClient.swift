import Synchronization
import WeftCore

/// Drives a ping-pong from the client's IO thread: each `response` ends a round trip and the
/// next `request` is reserved and committed right there, inside `received`, so no thread hop
/// sits in the loop. The clock is read once per `batch` round trips, at the response that
/// ends a batch; each sample is that batch's time (with `batch` 1, one round trip's). A
/// clock read costs 20–70 ns on these machines, so timing each round trip adds that much to
/// a sub-microsecond round trip; timing batches, as the floor probe does, adds it once per
/// batch. Even the first request is
/// sent on the IO thread (handed over with `ioThread.execute`), so the connection has a
/// single sender and all state but `state` is confined to that thread; the main thread
/// only waits.
final class PingPongClient: ConnectionHandler, @unchecked Sendable {
    enum State: Int {
        case running = 0
        case finished = 1
        case failed = 2
    }

    let size: Int
    let warmup: Int
    let count: Int
    /// Round trips per clock reading (`count` is a multiple of it).
    let batch: Int
    /// Times of the measured (post-warm-up) batches, nanoseconds: `count / batch` of them.
    let samples: UnsafeMutablePointer<UInt64>
    var sampleCount: Int { count / batch }
    private(set) var measuredStart: UInt64 = 0
    private(set) var measuredEnd: UInt64 = 0
    private(set) var failure: String?
    /// Where the last response's payload lay when it was delivered (for `--transport-statistics`).
    @exclusivity(unchecked) private(set) var lastPayloadAddress: UnsafeRawPointer?

    private let total: Int
    // Confined to the IO thread (see above): no dynamic exclusivity check per round trip.
    @exclusivity(unchecked) private var completed = 0
    /// When the current batch began (the previous clock reading).
    @exclusivity(unchecked) private var batchStart: UInt64 = 0
    /// Round trips left in the current batch; the clock is read when it reaches 0.
    @exclusivity(unchecked) private var batchLeft: Int
    @exclusivity(unchecked) private var sampleIndex = 0
    private let state = Atomic<Int>(State.running.rawValue)
    /// Requests larger than one reservation go out from a worker (`send` may wait there).
    private let offThread = OffThreadSender()

    /// `count` must be a multiple of `batch`. Warm-up round trips form one untimed batch.
    init(size: Int, warmup: Int, count: Int, batch: Int = 1) {
        precondition(batch >= 1 && count % batch == 0, "count must be a multiple of batch")
        self.size = size
        self.warmup = warmup
        self.count = count
        self.batch = batch
        total = warmup + count
        batchLeft = warmup > 0 ? warmup : batch
        samples = .allocate(capacity: max(count / batch, 1))
        samples.initialize(repeating: 0, count: max(count / batch, 1))
    }

    deinit { samples.deallocate() }

    var currentState: State { State(rawValue: state.load(ordering: .acquiring))! }

    /// Starts the loop: the first request goes out from the connection's IO thread.
    func start(on connection: any TransportConnection) {
        connection.ioThread.execute { [self] in
            batchStart = monotonicNanoseconds()
            if warmup == 0 { measuredStart = batchStart }
            do {
                try send(sequence: 1, on: connection)
            } catch {
                fail("cannot send the first request: \(error)")
            }
        }
    }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        guard currentStateIsRunning else { return }
        let header = frame.header
        let expected = UInt64(completed + 1)
        guard header.kind == .response, header.correlation == expected, frame.count == size else {
            fail(
                "round trip \(expected) got a \(header.kind) frame with correlation \(header.correlation) and \(frame.count) bytes"
            )
            connection.close()
            return
        }
        lastPayloadAddress = frame.payloadBaseAddress
        frame.release()
        completed += 1
        batchLeft -= 1
        if batchLeft == 0 { endBatch() }
        if completed == total {
            state.store(State.finished.rawValue, ordering: .releasing)
            Wakeup.post()
            return
        }
        do {
            try send(sequence: expected + 1, on: connection)
        } catch {
            fail("cannot send round trip \(expected + 1): \(error)")
        }
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {
        guard currentStateIsRunning else { return }
        fail(
            error.map { "the connection failed: \($0)" }
                ?? "the peer closed the connection after \(completed) of \(total) round trips")
    }

    /// The response that ends a batch (or the warm-up): the one clock reading of the batch.
    private func endBatch() {
        let now = monotonicNanoseconds()
        if completed == warmup {
            measuredStart = now
        } else {
            samples[sampleIndex] = now &- batchStart
            sampleIndex += 1
            measuredEnd = now
        }
        batchStart = now
        batchLeft = batch
    }

    private var currentStateIsRunning: Bool { state.load(ordering: .relaxed) == State.running.rawValue }

    private func fail(_ why: String) {
        failure = why
        state.store(State.failed.rawValue, ordering: .releasing)
        Wakeup.post()
    }

    /// One request of `size` bytes carrying the sequence number as correlation id (and in
    /// its first 8 bytes when it has room). Only one is ever in flight, so send space is
    /// free by the time the answer arrives; `wouldBlock` could only mean output still
    /// coalesced, so it flushes once and retries.
    private func send(sequence: UInt64, on connection: any TransportConnection) throws(TransportError) {
        if size > connection.maxReservation {
            var payload = [UInt8](repeating: 0, count: size)
            payload.withUnsafeMutableBytes { $0.storeBytes(of: sequence.littleEndian, as: UInt64.self) }
            offThread.send(
                payload, header: FrameHeader(kind: .request, channel: BenchProtocol.echoChannel, correlation: sequence),
                on: connection
            ) { [self] error in fail("cannot send round trip \(sequence): \(error)") }
            return
        }
        var reservation: SendReservation
        do throws(TransportError) {
            reservation = try connection.reserve(capacity: size)
        } catch .wouldBlock {
            connection.flush()
            reservation = try connection.reserve(capacity: size)
        }
        if size >= 8 { reservation.payload.baseAddress!.storeBytes(of: sequence.littleEndian, as: UInt64.self) }
        reservation.commit(kind: .request, length: size, channel: BenchProtocol.echoChannel, correlation: sequence)
    }
}
