import Distributed
import WeftCore

/// Finds a call's registered entry point (`RegisteredMethods`), once per actor type and
/// method identifier: the identifier is the method's mangled name, which demangles to
/// `Module.Type.method(labels:)`; the part after the type is the table's key, and the
/// method's parameter count and result type must be the entry's.
///
/// Identifiers come from peers, and demangling one keeps memory in the runtime: only types
/// that register entries are looked at, only identifiers that are short and mangled for
/// that type are demangled, and at most `limit` answers are ever worked out (later ones
/// are served by `executeDistributedTarget`).
final class MethodResolver: Sendable {
    private struct Key: Hashable {
        let type: ObjectIdentifier
        let identifier: String
    }
    /// nil: the type registers no entry for this identifier (`executeDistributedTarget` serves it).
    private let resolved = Locked<[Key: MethodThunk?]>([:])
    static let limit = 4096
    static let maxIdentifierBytes = 512

    func thunk(for identifier: String, on actor: any DistributedActor) -> MethodThunk? {
        let type = Swift.type(of: actor)
        guard let registered = type as? any RegisteredMethods.Type else { return nil }
        let key = Key(type: ObjectIdentifier(type), identifier: identifier)
        return resolved.withLock { resolved -> MethodThunk? in
            if let known = resolved[key] { return known }
            guard resolved.count < Self.limit else { return nil }
            let found = Self.lookUp(identifier, in: registered)
            resolved[key] = found
            return found
        }
    }

    private static func lookUp(_ identifier: String, in type: any RegisteredMethods.Type) -> MethodThunk? {
        guard identifier.utf8.count <= maxIdentifierBytes, let typeName = _mangledTypeName(type),
            identifier.hasPrefix("$s" + typeName)
        else { return nil }
        let qualified = RemoteCallTarget(identifier).description
        // Not String(reflecting:), which asks the runtime whether the metatype conforms to
        // three printing protocols: a scan of every conformance record, on a call's path.
        let prefix = _typeName(type, qualified: true) + "."
        guard qualified != identifier, qualified.hasPrefix(prefix),
            let thunk = type.registeredThunks()[String(qualified.dropFirst(prefix.count))],
            Int(_getParameterCount(mangledMethodName: identifier)) == thunk.parameterCount,
            returnType(of: identifier) == thunk.resultType
        else { return nil }
        return thunk
    }

    private static func returnType(of identifier: String) -> ObjectIdentifier? {
        var name = identifier
        return name.withUTF8 { bytes in
            __getReturnTypeInfo(bytes.baseAddress!, UInt(bytes.count), nil, nil).map(ObjectIdentifier.init)
        }
    }
}

extension RegisteredMethods {
    static func registeredThunks() -> [String: MethodThunk] {
        var table = MethodTable<Self>()
        registerMethods(into: &table)
        return table.thunks
    }
}
