import Distributed

/// One registered method, its actor type erased (`MethodTable.add`). Both entry points
/// decode the arguments from the request in place and reply through the handler; an error
/// the method throws is the caller's thrown-error reply, an argument that does not decode
/// is thrown out (the call then ends with `badArguments`).
struct MethodThunk: Sendable {
    typealias Isolated = @Sendable (any DistributedActor, inout WeftInvocationDecoder, WeftResultHandler) throws -> Void
    typealias Detached = @Sendable (any DistributedActor, inout WeftInvocationDecoder, WeftResultHandler) async throws -> Void

    /// A synchronous method, run on the current thread, which must be the one the actor's
    /// executor runs on (the receiving IO thread, for an actor bound to it).
    var isolated: Isolated?
    /// Any method, from a task: hops to the actor for the call.
    let detached: Detached
    /// What the method's mangled name must say: its parameter count and result type.
    let parameterCount: Int
    let resultType: ObjectIdentifier
    /// Asks the runtime's first questions about the parameter and result types
    /// (`TypePreparation`).
    let prepare: @Sendable () -> Void
}
