import Distributed
import Testing
import WeftConformance
import WeftCore

@testable import WeftActors
@testable import WeftLocal

/// Bound to an IO thread, with entry points registered for most of its methods.
distributed actor Registered {
    typealias ActorSystem = WeftActorSystem
    let executor: IOThreadExecutor
    var total = 0

    init(executor: IOThreadExecutor, actorSystem: WeftActorSystem) {
        self.executor = executor
        self.actorSystem = actorSystem
        actorSystem.bind(id, to: executor)
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { actorSystem.unownedExecutor(of: id) }

    distributed func add(_ amount: Int) -> Int {
        total += amount
        return total
    }

    distributed func reset() { total = 0 }

    distributed func fail(_ code: Int) throws -> Int { throw Oops(code: code) }

    distributed func later(_ amount: Int) async -> Int {
        await Task.yield()
        return add(amount)
    }

    /// Not registered: served by `executeDistributedTarget`.
    distributed func unregistered(_ text: String) -> String { text + "!" }

    /// Registered under a name no method has: the entry is never used.
    distributed func misnamed() -> Int { 7 }
}

extension Registered: RegisteredMethods {
    static func registerMethods(into methods: inout MethodTable<Registered>) {
        methods.add("add(_:)") { (actor: isolated Registered, amount: Int) in actor.add(amount) }
        methods.add("reset()") { (actor: isolated Registered) in actor.reset() }
        methods.add("fail(_:)") { (actor: isolated Registered, code: Int) in try actor.fail(code) }
        methods.add("later(_:)") { (actor: isolated Registered, amount: Int) in await actor.later(amount) }
        methods.add("misnamed(x:)") { (actor: isolated Registered) in actor.misnamed() + 100 }
    }
}

@Suite(.serialized) struct RegisteredMethodTests {
    /// A warm call to a registered synchronous method of an actor bound to the receiving IO
    /// thread runs inside the connection's handler: no job is queued on any IO thread (a
    /// caller off the IO threads resumes on the global executor). Through
    /// `executeDistributedTarget` each call queues one: the method's entry into the actor.
    @Test(arguments: [ActorCluster.Medium.local, .sharedMemory])
    func registeredSynchronousMethodsRunInline(_ medium: ActorCluster.Medium) async throws {
        let cluster = try ActorCluster(["a", "b"], medium: medium)
        defer { cluster.shutdown() }
        let actor = Registered(executor: IOThreadExecutor.for(cluster.runtimes[1].threads[0]), actorSystem: cluster["b"])
        let remote = try Registered.resolve(id: actor.id, using: cluster["a"])
        #expect(try await remote.add(1) == 1)
        let before = IOThreadExecutor.enqueuedJobs
        for expected in 2...101 { #expect(try await remote.add(1) == expected) }
        try await remote.reset()
        #expect(IOThreadExecutor.enqueuedJobs - before == 0)
        #expect(try await remote.unregistered("x") == "x!")
        let fallback = IOThreadExecutor.enqueuedJobs
        for _ in 0..<10 { _ = try await remote.unregistered("x") }
        #expect(IOThreadExecutor.enqueuedJobs - fallback >= 10)
    }

    /// The method's own error is the reply, as through `executeDistributedTarget`; an async
    /// method runs in a task; an entry whose name matches no method is not used.
    @Test func errorsAsyncMethodsAndMisnamedEntries() async throws {
        let cluster = try ActorCluster(["a", "b"], medium: .sharedMemory)
        defer { cluster.shutdown() }
        cluster["a"].allowRemoteTypes(Oops.self)
        let actor = Registered(executor: IOThreadExecutor.for(cluster.runtimes[1].threads[0]), actorSystem: cluster["b"])
        let remote = try Registered.resolve(id: actor.id, using: cluster["a"])
        await #expect(throws: Oops(code: 4)) { _ = try await remote.fail(4) }
        #expect(try await remote.later(5) == 5)
        #expect(try await remote.misnamed() == 7)
        #expect(try await remote.add(1) == 6)
    }

    /// An argument of the wrong type is `badArguments` on the inline path too, and the
    /// connection goes on serving.
    @Test func badArgumentsInlineAreAnErrorReply() async throws {
        let spy = "spy-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = try ActorCluster(["a", "b"], extra: ["spy": "local:\(spy)"])
        defer { cluster.shutdown() }
        let actor = Registered(executor: IOThreadExecutor.for(cluster.runtimes[1].threads[0]), actorSystem: cluster["b"])
        let add = try await CapturedCall.identifier(cluster, spy: spy) { system in
            _ = try await Registered.resolve(id: .instance(1, on: "spy"), using: system).add(1)
        }
        let replies = CollectingHandler()
        let connection = try LocalTransport(context: TransportContext(runtime: cluster.runtimes[0])).connect(
            to: cluster.membership.address(of: "b")!, options: ConnectionOptions(), handler: replies)
        try connection.send(try CapturedCall.request(actor.id, method: add, arguments: ["one"]), kind: .request, correlation: 1)
        try connection.send(try CapturedCall.request(actor.id, method: add, arguments: [3]), kind: .request, correlation: 2)
        #expect(replies.wait { $0.frameCount >= 2 })
        let bad = try #require(replies.frames.first { $0.header.correlation == 1 })
        #expect(bad.header.flags.contains(.error) && bad.payload.first == RemoteFailure.badArguments.rawValue)
        let good = try #require(replies.frames.first { $0.header.correlation == 2 })
        #expect(!good.header.flags.contains(.error))
    }

    /// A virtual actor's new activation may bind its identity before the previous instance
    /// resigns it: that resignation must leave the new binding in place.
    @Test func aBindingOutlivesAnEarlierInstanceOfTheSameIdentity() throws {
        let cluster = try ActorCluster(["a"])
        defer { cluster.shutdown() }
        let system = cluster["a"]
        let id = ActorID.virtual(type: "T", key: "k")
        let old = IOThreadExecutor(thread: cluster.runtimes[0].threads[0])
        let new = IOThreadExecutor(thread: cluster.runtimes[0].threads[0])
        system.bind(id, to: old)
        system.bind(id, to: new)
        system.resignID(id)
        #expect(system.boundExecutor(of: id) === new)
        system.resignID(id)
        #expect(system.boundExecutor(of: id) == nil)
    }

    /// A caller names a target and method in full on its first call over a connection, and
    /// by handle alone on the next: a warm request carries no strings.
    @Test func warmCallsCarryHandlesOnly() async throws {
        let spy = "spy-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = try ActorCluster(["a"], extra: ["spy": "local:\(spy)"])
        defer { cluster.shutdown() }
        let captured = CollectingHandler()
        let listener = try LocalTransport(context: TransportContext(runtime: cluster.runtimes[0])).listen(
            at: spy, options: ConnectionOptions()
        ) { _ in captured }
        defer { listener.close() }
        let ghost = try Counter.resolve(id: .instance(1, on: "spy"), using: cluster["a"])
        for _ in 0..<2 { _ = try? await withCallTimeout(.milliseconds(50)) { try await ghost.add(1) } }
        #expect(captured.wait { $0.frameCount >= 2 })
        let requests = try captured.frames.map { frame in
            try frame.payload.withUnsafeBytes { try CallEnvelope.parseRequest($0) }
        }
        #expect(requests[0].target == ghost.id && requests[0].method != nil && requests[0].targetHandle == 1)
        #expect(requests[1].target == nil && requests[1].method == nil)
        #expect(requests[1].targetHandle == requests[0].targetHandle && requests[1].methodHandle == requests[0].methodHandle)
        #expect(requests[1].argumentsOffset == CallEnvelope.fixedSize)
    }
}

/// Learns a method's identifier from a real request sent to a spy node, and builds requests.
enum CapturedCall {
    static func identifier(
        _ cluster: ActorCluster, spy: String, _ call: @Sendable (WeftActorSystem) async throws -> Void
    ) async throws -> String {
        let captured = CollectingHandler()
        let transport = LocalTransport(context: TransportContext(runtime: cluster.runtimes[0]))
        let listener = try transport.listen(at: spy, options: ConnectionOptions()) { _ in captured }
        defer { listener.close() }
        let system = cluster.systems.values.first!
        _ = try? await withCallTimeout(.milliseconds(50)) { try await call(system) }
        #expect(captured.wait { $0.frameCount >= 1 })
        let frame = try #require(captured.frames.first)
        return try frame.payload.withUnsafeBytes { try #require(CallEnvelope.parseRequest($0).method) }
    }

    static func request(
        _ target: ActorID?, targetHandle: UInt32 = 0, method: String?, methodHandle: UInt32 = 0, arguments: [any Codable],
        substitutions: [String] = []
    ) throws -> [UInt8] {
        var invocation = WeftInvocationEncoder()
        invocation.arguments = arguments
        invocation.substitutions = substitutions
        var writer = BinaryWriter(growable: 64)
        defer { writer.deallocate() }
        try CallEnvelope.writeRequest(
            target: target, targetHandle: targetHandle, method: method, methodHandle: methodHandle, invocation: invocation,
            into: &writer)
        return Array(writer.bytes)
    }
}
