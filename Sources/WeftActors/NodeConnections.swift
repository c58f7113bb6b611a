import Synchronization
import WeftCore

/// The system's connections: one outgoing per node it calls (requests out, responses in),
/// and the incoming ones it serves (requests in, responses out), kept to close on shutdown.
final class NodeConnections: Sendable {
    private struct State {
        var outgoing: [String: any TransportConnection] = [:]
        var incoming: [ConnectionID: any TransportConnection] = [:]
    }
    private let state = Locked(State())

    func outgoing(_ node: String) -> (any TransportConnection)? {
        state.withLock { state in
            guard let connection = state.outgoing[node], !connection.isClosed else { return nil }
            return connection
        }
    }

    /// Keeps `connection` unless another one to `node` won a race; returns the one to use.
    func addOutgoing(_ connection: any TransportConnection, to node: String) -> any TransportConnection {
        let kept = state.withLock { state -> any TransportConnection in
            if let existing = state.outgoing[node], !existing.isClosed { return existing }
            state.outgoing[node] = connection
            return connection
        }
        if kept !== connection { connection.close() }
        return kept
    }

    func addIncoming(_ connection: any TransportConnection) {
        state.withLock { $0.incoming[connection.id] = connection }
    }

    func remove(_ connection: any TransportConnection) {
        state.withLock { state in
            state.incoming[connection.id] = nil
            for (node, candidate) in state.outgoing where candidate === connection { state.outgoing[node] = nil }
        }
    }

    func removeAll() -> [any TransportConnection] {
        state.withLock { state in
            let all = Array(state.outgoing.values) + Array(state.incoming.values)
            state = State()
            return all
        }
    }
}
