import Synchronization
import WeftCore

/// The receiving half of `weft rate` on the client: it waits, on the IO thread, for the
/// peer's answer to the rate request (`BenchProtocol`), and notes when it arrived.
final class RateClient: ConnectionHandler, @unchecked Sendable {
    enum State: Int {
        case running = 0
        case finished = 1
        case failed = 2
    }

    let correlation: UInt64
    private(set) var finishedAt: UInt64 = 0
    private(set) var receivedCount: UInt64 = 0
    private(set) var failure: String?
    private let state = Atomic<Int>(State.running.rawValue)

    init(correlation: UInt64) { self.correlation = correlation }

    var currentState: State { State(rawValue: state.load(ordering: .acquiring))! }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        let now = monotonicNanoseconds()
        let header = frame.header
        guard header.kind == .response, header.channel == BenchProtocol.rateChannel,
            header.correlation == correlation, state.load(ordering: .relaxed) == State.running.rawValue
        else { return }
        guard let count = frame.withPayload({ BenchProtocol.loadCount(from: $0) }) else {
            fail("the peer's answer to the rate request carries no count")
            return
        }
        finishedAt = now
        receivedCount = count
        state.store(State.finished.rawValue, ordering: .releasing)
        Wakeup.post()
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {
        guard state.load(ordering: .relaxed) == State.running.rawValue else { return }
        fail(error.map { "the connection failed: \($0)" } ?? "the peer closed the connection before answering")
    }

    private func fail(_ why: String) {
        failure = why
        state.store(State.failed.rawValue, ordering: .releasing)
        Wakeup.post()
    }
}
