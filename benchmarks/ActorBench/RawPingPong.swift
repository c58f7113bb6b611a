import Synchronization
import WeftCore

/// The floor the actor layer is compared with: request/response frames bounced between
/// two IO threads over a shared-memory connection, entirely inside the IO threads' handlers
/// (no task, no continuation, no executor).
final class EchoHandler: ConnectionHandler, @unchecked Sendable {
    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        let correlation = frame.header.correlation
        frame.release()
        guard let reservation = try? connection.reserve(capacity: 8) else { return }
        reservation.commit(kind: .response, length: 0, correlation: correlation)
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {}
}

/// Sends the next request from the handler of the previous response, `count` times.
final class PingHandler: ConnectionHandler, @unchecked Sendable {
    private var remaining = 0
    private var started = ContinuousClock.now
    private var done: CheckedContinuation<Duration, Never>?

    /// Starts a run on the connection's IO thread; resumes with its wall time.
    func run(_ count: Int, on connection: any TransportConnection) async -> Duration {
        await withCheckedContinuation { continuation in
            connection.ioThread.execute {
                self.remaining = count
                self.done = continuation
                self.started = .now
                self.ping(connection)
            }
        }
    }

    private func ping(_ connection: any TransportConnection) {
        guard let reservation = try? connection.reserve(capacity: 8) else { fatalError("raw ping: ring full") }
        reservation.commit(kind: .request, length: 0, correlation: UInt64(remaining))
    }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        frame.release()
        remaining -= 1
        if remaining > 0 {
            ping(connection)
        } else {
            let elapsed = ContinuousClock.now - started
            done?.resume(returning: elapsed)
            done = nil
        }
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {}
}
