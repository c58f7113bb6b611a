import Distributed

/// An actor type that hands the system a direct entry point for its hot distributed
/// methods. A call to a listed method skips the standard library's
/// `executeDistributedTarget`, which finds the method by its mangled name and demangles
/// its parameter types on every call; a synchronous method of an actor bound to the IO
/// thread that receives the call runs right there, inside the connection's handler, with
/// no task and no queued job. Methods not listed keep working through
/// `executeDistributedTarget`.
///
/// ```swift
/// extension Barrel: RegisteredMethods {
///     static func registerMethods(into methods: inout MethodTable<Barrel>) {
///         methods.add("hit(by:)") { (barrel: isolated Barrel, player: String) in barrel.hit(by: player) }
///         methods.add("explode()") { (barrel: isolated Barrel) in try await barrel.explode() }
///     }
/// }
/// ```
///
/// Each entry names the method as Swift spells it (base name and argument labels) and
/// forwards its parameters unchanged. A name that matches no method, or that two entries
/// share (overloads with the same labels), is simply not used.
public protocol RegisteredMethods: DistributedActor where ActorSystem == WeftActorSystem {
    static func registerMethods(into methods: inout MethodTable<Self>)
}

/// The entry points of one actor type, by method name (`RegisteredMethods`).
public struct MethodTable<Actor: DistributedActor>: Sendable where Actor.ActorSystem == WeftActorSystem {
    private(set) var thunks: [String: MethodThunk] = [:]
    private(set) var ambiguous: Set<String> = []

    init() {}

    /// A synchronous method that returns a value.
    public mutating func add<each Argument: Codable & SendableMetatype, Result: Codable & SendableMetatype>(
        _ name: String, _ body: @escaping @Sendable (isolated Actor, repeat each Argument) throws -> Result
    ) {
        var thunk = Self.thunk(body as @Sendable (isolated Actor, repeat each Argument) async throws -> Result)
        thunk.isolated = { actor, decoder, reply in
            let arguments = Decoded(try (repeat decoder.decodeNextArgument() as each Argument))
            try Self.runIsolated(Self.typed(actor)) { actor in
                let result: Result
                do { result = try body(actor, repeat each arguments.values) } catch { return try reply.sendThrown(error) }
                try reply.sendValue(result)
            }
        }
        insert(name, thunk)
    }

    /// A synchronous method that returns nothing.
    public mutating func add<each Argument: Codable & SendableMetatype>(
        _ name: String, _ body: @escaping @Sendable (isolated Actor, repeat each Argument) throws -> Void
    ) {
        var thunk = Self.thunk(body as @Sendable (isolated Actor, repeat each Argument) async throws -> Void)
        thunk.isolated = { actor, decoder, reply in
            let arguments = Decoded(try (repeat decoder.decodeNextArgument() as each Argument))
            try Self.runIsolated(Self.typed(actor)) { actor in
                do { try body(actor, repeat each arguments.values) } catch { return try reply.sendThrown(error) }
                try reply.sendVoid()
            }
        }
        insert(name, thunk)
    }

    /// An asynchronous method that returns a value (always served in a task).
    public mutating func add<each Argument: Codable & SendableMetatype, Result: Codable & SendableMetatype>(
        _ name: String, _ body: @escaping @Sendable (isolated Actor, repeat each Argument) async throws -> Result
    ) {
        insert(name, Self.thunk(body))
    }

    /// An asynchronous method that returns nothing (always served in a task).
    public mutating func add<each Argument: Codable & SendableMetatype>(
        _ name: String, _ body: @escaping @Sendable (isolated Actor, repeat each Argument) async throws -> Void
    ) {
        insert(name, Self.thunk(body))
    }

    /// The entry point that decodes the arguments, hops to the actor, and replies.
    private static func thunk<each Argument: Codable & SendableMetatype, Result: Codable & SendableMetatype>(
        _ body: @escaping @Sendable (isolated Actor, repeat each Argument) async throws -> Result
    ) -> MethodThunk {
        MethodThunk(
            isolated: nil,
            detached: { actor, decoder, reply in
                let arguments = Decoded(try (repeat decoder.decodeNextArgument() as each Argument))
                _ = try await typed(actor).whenLocal { actor in
                    let result: Result
                    do { result = try await body(actor, repeat each arguments.values) } catch {
                        return try reply.sendThrown(error)
                    }
                    try reply.sendValue(result)
                }
            },
            parameterCount: count((repeat each Argument).self), resultType: ObjectIdentifier(Result.self),
            prepare: {
                prepare((repeat each Argument).self)
                BinaryEncoding.prepare(Result.self)
            })
    }

    private static func thunk<each Argument: Codable & SendableMetatype>(
        _ body: @escaping @Sendable (isolated Actor, repeat each Argument) async throws -> Void
    ) -> MethodThunk {
        MethodThunk(
            isolated: nil,
            detached: { actor, decoder, reply in
                let arguments = Decoded(try (repeat decoder.decodeNextArgument() as each Argument))
                _ = try await typed(actor).whenLocal { actor in
                    do { try await body(actor, repeat each arguments.values) } catch { return try reply.sendThrown(error) }
                    try reply.sendVoid()
                }
            },
            parameterCount: count((repeat each Argument).self), resultType: ObjectIdentifier(Void.self),
            prepare: { prepare((repeat each Argument).self) })
    }

    private mutating func insert(_ name: String, _ thunk: MethodThunk) {
        guard !ambiguous.contains(name) else { return }
        if thunks.updateValue(thunk, forKey: name) != nil {
            thunks[name] = nil
            ambiguous.insert(name)
        }
    }

    /// `assumeIsolated` without its check, which asks the actor for its executor (a lookup by
    /// identity): `serveInline` runs this only after finding the actor bound to the current
    /// IO thread. The cast is the one `assumeIsolated` itself makes.
    private static func runIsolated(_ actor: Actor, _ operation: (isolated Actor) throws -> Void) throws {
        typealias Unchecked = (Actor) throws -> Void
        try withoutActuallyEscaping(operation) { escapable in
            try unsafeBitCast(escapable, to: Unchecked.self)(actor)
        }
    }

    private static func prepare<each Argument>(_: (repeat each Argument).Type) {
        for argument in repeat (each Argument).self { BinaryEncoding.prepare(argument) }
    }

    private static func count<each Argument>(_: (repeat each Argument).Type) -> Int {
        var count = 0
        for _ in repeat (each Argument).self { count += 1 }
        return count
    }

    /// The resolver checked the instance's type before choosing this table.
    private static func typed(_ actor: any DistributedActor) -> Actor { unsafeDowncast(actor as AnyObject, to: Actor.self) }
}

/// Arguments decoded for one call, handed to the actor: fresh values nothing else holds.
private struct Decoded<each Value>: @unchecked Sendable {
    let values: (repeat each Value)
    init(_ values: (repeat each Value)) { self.values = values }
}
