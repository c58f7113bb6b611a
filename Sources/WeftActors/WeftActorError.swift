/// What a remote call can fail with besides the callee's own thrown errors.
public enum WeftActorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection to the node could be made (it is down or not listening).
    case nodeUnreachable(node: String, reason: String)
    /// The connection to the node closed while the call waited for its reply.
    case connectionLost(node: String, reason: String)
    /// No reply came within the call's time-out.
    case timedOut(actor: ActorID, after: Duration)
    /// The node that received the call answered with an error of its own (see `RemoteFailure`).
    case remote(RemoteFailure, message: String)
    /// The node is not a member, or the actor names a node that is not one.
    case unknownNode(String)
    /// The type was not registered with `register(_:name:options:factory:)` on this node.
    case unregisteredType(String)
    /// The reply could not be decoded as the expected type.
    case badReply(String)
    /// The system was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .nodeUnreachable(let node, let reason): return "node '\(node)' is unreachable: \(reason)"
        case .connectionLost(let node, let reason): return "the connection to node '\(node)' was lost during the call: \(reason)"
        case .timedOut(let actor, let after): return "the call to \(actor) got no reply within \(after)"
        case .remote(let failure, let message): return "the remote node answered \(failure): \(message)"
        case .unknownNode(let node): return "'\(node)' is not a member of this cluster"
        case .unregisteredType(let type): return "actor type '\(type)' is not registered on this node"
        case .badReply(let why): return "the reply could not be decoded: \(why)"
        case .shutDown: return "the actor system is shut down"
        }
    }
}

/// Why a node refused or failed a call it received; the first byte of an error reply.
public enum RemoteFailure: UInt8, Sendable, Equatable, CustomStringConvertible {
    /// The callee threw an error that is `Codable`; the reply carries it, and the caller rethrows it.
    case thrownCodable = 1
    /// The callee threw an error that is not `Codable`; only its description travels.
    case thrown = 2
    /// No such actor here (a plain actor that is gone, or a virtual type nobody registered).
    case unknownActor = 3
    /// The actor has no distributed method with that identifier.
    case unknownMethod = 4
    /// The arguments did not decode as the method's parameter types.
    case badArguments = 5
    /// The call frame itself did not parse.
    case malformedCall = 6
    /// The virtual actor's factory or its `didActivate` hook failed.
    case activationFailed = 7

    public var description: String {
        switch self {
        case .thrownCodable, .thrown: return "a thrown error"
        case .unknownActor: return "unknown actor"
        case .unknownMethod: return "unknown method"
        case .badArguments: return "undecodable arguments"
        case .malformedCall: return "malformed call"
        case .activationFailed: return "activation failed"
        }
    }
}
