import WeftCore

/// Receives a connection's frames for the actor system, on the connection's IO thread:
/// requests start a task that serves the call; responses complete the waiting call,
/// decoding the result from the frame in place.
final class SystemConnectionHandler: ConnectionHandler, @unchecked Sendable {
    weak var system: WeftActorSystem?
    /// The node called over this connection; nil for an incoming connection.
    let node: String?
    private var known = false
    /// The receiving IO thread's executor, when calls are served there (IO thread only).
    private var executor: IOThreadExecutor?
    /// Calls this connection brought in and has not been answered yet (back-pressure).
    private(set) var calls: IncomingCalls!
    /// The targets and methods the peer bound on this connection (IO thread only).
    private let handles = IncomingCallHandles()

    init(system: WeftActorSystem?, node: String?) {
        self.system = system
        self.node = node
        calls = IncomingCalls(limit: system?.configuration.maxUnansweredCalls ?? 1) { [weak self] payload, connection in
            self?.serve(payload, on: connection)
        }
    }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        guard let system else { return }
        switch frame.kind {
        case .request:
            if node == nil, !known {
                known = true
                system.connections.addIncoming(connection)
            }
            let payload = CallPayload(frame, calls: calls)
            do { payload.call = try handles.resolve(CallEnvelope.parseRequest(payload.bytes)) } catch {
                payload.malformed = error
            }
            calls.received(payload, on: connection)
        case .response:
            guard let entry = system.pending.take(frame.header.correlation) else { return }
            let isError = frame.header.flags.contains(.error)
            frame.withPayload { bytes in entry.complete(isError ? .error(bytes) : .value(bytes)) }
        default:
            break
        }
    }

    /// Starts serving a request that `calls` let through (IO thread).
    private func serve(_ payload: CallPayload, on connection: any TransportConnection) {
        guard let system else { return }
        guard system.configuration.servesOnIOThreads else {
            Task { await system.serve(payload, on: connection) }
            return
        }
        guard !system.serveInline(payload, on: connection) else { return }
        let executor = self.executor ?? IOThreadExecutor.for(connection.ioThread)
        self.executor = executor
        // Starts at once on this thread and runs until its first suspension (for a call to
        // an actor bound here: until the method is queued on this thread's executor).
        Task.immediate(executorPreference: executor) { await system.serve(payload, on: connection) }
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {
        calls.connectionClosed()
        guard let system else { return }
        system.connections.remove(connection)
        let reason = error.map { "\($0)" } ?? "closed by the peer"
        system.pending.fail(connection: connection.id) { entry in
            WeftActorError.connectionLost(node: entry.node, reason: reason)
        }
    }
}
