import Synchronization
import WeftCore

/// The system's connections: one outgoing per node it calls (requests out, responses in),
/// and the incoming ones it serves (requests in, responses out), kept to close on shutdown.
final class NodeConnections: Sendable {
    /// A connection this node calls over, with the handles it bound on it.
    struct Outgoing: Sendable {
        let connection: any TransportConnection
        let handles: OutgoingCallHandles
    }

    private struct State {
        var outgoing: [String: Outgoing] = [:]
        var incoming: [ConnectionID: any TransportConnection] = [:]
    }
    private let state = Locked(State())

    func outgoing(_ node: String) -> Outgoing? {
        state.withLock { state in
            guard let outgoing = state.outgoing[node], !outgoing.connection.isClosed else { return nil }
            return outgoing
        }
    }

    /// Keeps `connection` unless another one to `node` won a race; returns the one to use.
    func addOutgoing(_ connection: any TransportConnection, to node: String) -> Outgoing {
        let kept = state.withLock { state -> Outgoing in
            if let existing = state.outgoing[node], !existing.connection.isClosed { return existing }
            let fresh = Outgoing(connection: connection, handles: OutgoingCallHandles())
            state.outgoing[node] = fresh
            return fresh
        }
        if kept.connection !== connection { connection.close() }
        return kept
    }

    func addIncoming(_ connection: any TransportConnection) {
        state.withLock { $0.incoming[connection.id] = connection }
    }

    func remove(_ connection: any TransportConnection) {
        state.withLock { state in
            state.incoming[connection.id] = nil
            for (node, candidate) in state.outgoing where candidate.connection === connection { state.outgoing[node] = nil }
        }
    }

    func removeAll() -> [any TransportConnection] {
        state.withLock { state in
            let all = state.outgoing.values.map(\.connection) + Array(state.incoming.values)
            state = State()
            return all
        }
    }
}
