import Distributed
import WeftCore

/// A request as the serving node reads it: its target and method resolved through the
/// connection's handles, the rest as parsed.
struct IncomingCall: Sendable {
    let target: TargetSlot
    let method: MethodSlot
    let argumentCount: Int
    let substitutions: [String]
    let argumentsOffset: Int
}

/// A call target a connection named, with what the receiving IO thread learned of it.
final class TargetSlot: @unchecked Sendable {
    let id: ActorID
    // Used by `serveInline` only, on the connection's IO thread.
    weak var instance: (any DistributedActor)?
    var executor: IOThreadExecutor?

    init(_ id: ActorID) { self.id = id }
}

/// A method a connection named, with its registered entry point once looked up.
final class MethodSlot: @unchecked Sendable {
    let identifier: String
    // Used by `serveInline` only, on the connection's IO thread.
    var resolvedFor: ObjectIdentifier?
    var thunk: MethodThunk?

    init(_ identifier: String) { self.identifier = identifier }
}

/// The handles a caller bound on one incoming connection (`CallEnvelope`), read on the
/// connection's IO thread in frame order. At most `CallEnvelope.maxHandles` of each.
final class IncomingCallHandles: @unchecked Sendable {
    private var targets: [TargetSlot?] = []
    private var methods: [MethodSlot?] = []

    func resolve(_ request: CallEnvelope.Request) throws(BinaryCodingError) -> IncomingCall {
        let target = try Self.slot(
            request.targetHandle, naming: request.target, size: \.boundBytes, in: &targets, TargetSlot.init)
        let method = try Self.slot(
            request.methodHandle, naming: request.method, size: \.utf8.count, in: &methods, MethodSlot.init)
        return IncomingCall(
            target: target, method: method, argumentCount: request.argumentCount, substitutions: request.substitutions,
            argumentsOffset: request.argumentsOffset)
    }

    /// The slot `handle` names; a name given with it (re)binds the handle, and handle 0 is
    /// this call's alone.
    private static func slot<Name, Slot>(
        _ handle: UInt32, naming name: Name?, size: (Name) -> Int, in table: inout [Slot?], _ make: (Name) -> Slot
    ) throws(BinaryCodingError) -> Slot {
        let index = Int(handle) - 1
        guard let name else {
            guard index >= 0, index < table.count, let known = table[index] else {
                throw .invalidValue("handle \(handle) was never bound on this connection")
            }
            return known
        }
        let fresh = make(name)
        if index >= 0 {
            guard size(name) <= CallEnvelope.maxBoundNameBytes else {
                throw .invalidValue("handle \(handle) binds names over \(CallEnvelope.maxBoundNameBytes) bytes")
            }
            if index >= table.count { table.append(contentsOf: repeatElement(nil, count: index + 1 - table.count)) }
            table[index] = fresh
        }
        return fresh
    }
}

extension ActorID {
    /// The bytes a handle bound to this identity holds (`CallEnvelope.maxBoundNameBytes`).
    var boundBytes: Int { node.utf8.count + type.utf8.count + key.utf8.count }
}
