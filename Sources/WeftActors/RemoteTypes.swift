import Synchronization
import WeftCore

/// The types a peer may name on the wire, by mangled name: a call's generic substitutions
/// and the Codable error a reply carries. A name that arrives is looked up here and nowhere
/// else: handed to the runtime (`_typeByName`) it would resolve any type linked into the
/// process and let the peer choose what this node decodes. The node allows the few types it
/// means to exchange (`WeftActorSystem.allowRemoteTypes`); the arguments and results of
/// distributed methods need no entry, since their types come from the method itself.
final class RemoteTypes: Sendable {
    private let types = Locked<[String: any Any.Type]>([:])

    func allow(_ type: any Any.Type) {
        guard let name = _mangledTypeName(type) else { return }
        types.withLock { $0[name] = type }
    }

    func type(named name: String) -> (any Any.Type)? { types.withLock { $0[name] } }

    /// The types a call's generic substitutions name, in order; throws the first name this
    /// node does not allow.
    func resolve(_ names: [String]) throws(UnknownRemoteType) -> [any Any.Type] {
        var resolved: [any Any.Type] = []
        resolved.reserveCapacity(names.count)
        for name in names {
            guard let type = type(named: name) else { throw UnknownRemoteType(name: name) }
            resolved.append(type)
        }
        return resolved
    }
}

/// A type name from the wire that `RemoteTypes` does not allow.
struct UnknownRemoteType: Error {
    let name: String
}
