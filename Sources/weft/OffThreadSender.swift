import Dispatch
import Synchronization
import WeftCore

/// Sends messages larger than one reservation for a handler that runs on the connection's
/// IO thread, where `send` may not wait for space (the IO thread is what makes space).
///
/// Order is kept: while a message waits here, the handler's later replies queue behind it
/// (`mustQueue`). Only the IO thread enqueues, so when nothing is queued the worker is idle
/// and the IO thread may reserve directly: the connection keeps a single sender.
final class OffThreadSender: @unchecked Sendable {
    private let queue = DispatchQueue(label: "weft.large-messages")
    private let pending = Counter()

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// True while earlier messages still wait here: later ones must queue behind them.
    var mustQueue: Bool { pending.value.load(ordering: .acquiring) > 0 }
    /// Messages waiting here now.
    var queued: Int { pending.value.load(ordering: .acquiring) }

    /// Sends `payload` as one message with `header` from the worker; `failed` runs there on error.
    func send(
        _ payload: [UInt8], header: FrameHeader, on connection: any TransportConnection,
        failed: @escaping @Sendable (TransportError) -> Void
    ) {
        pending.value.add(1, ordering: .acquiringAndReleasing)
        queue.async { [pending] in
            let outcome = payload.withUnsafeBytes { raw in
                Result { () throws(TransportError) in try connection.send(raw, header: header, timeout: .seconds(30)) }
            }
            if case .failure(let error) = outcome { failed(error) }
            pending.value.subtract(1, ordering: .acquiringAndReleasing)
        }
    }
}
