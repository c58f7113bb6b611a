import Distributed
import Testing
import WeftActors
import WeftCore

@Suite(.serialized) struct RemoteCallTests {
    @Test func callsResultsAndErrorsOverLocal() async throws {
        let cluster = try ActorCluster(["a", "b"])
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        #expect(try await remote.add(5) == 5)
        #expect(try await remote.add(2) == 7)
        #expect(try await remote.node() == "b")
        let payload = Payload(
            name: "Bob", scores: [1, 2], tags: ["k": 3], note: "hi", nested: [Inner(id: 1, flag: false)], small: 1, ratio: 2)
        #expect(try await remote.echo(payload) == payload)
        await #expect(throws: Oops(code: 42)) { try await remote.fail(42) }
        do {
            _ = try await remote.failPlainly()
            Issue.record("no error")
        } catch let error as WeftActorError {
            #expect(error == .remote(.thrown, message: "something went wrong"))
        }
    }

    /// Arguments or results larger than one reservation take the fragmenting path.
    @Test func largeResultsAreFragmented() async throws {
        let cluster = try ActorCluster(["a", "b"])
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        let bytes = try await remote.big(300_000)
        #expect(bytes.count == 300_000 && bytes.allSatisfy { $0 == 7 })
        var big = Payload(
            name: String(repeating: "n", count: 200_000), scores: [], tags: [:], note: nil, nested: [], small: 0, ratio: 0)
        big.scores = Array(repeating: 1.5, count: 10_000)
        #expect(try await remote.echo(big) == big)
    }

    @Test func timeOutFailsTheCallAndTheNodeGoesOn() async throws {
        let cluster = try ActorCluster(["a", "b"])
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        let start = ContinuousClock.now
        do {
            try await withCallTimeout(.milliseconds(100)) { try await remote.sleep(milliseconds: 2000) }
            Issue.record("no time-out")
        } catch let error as WeftActorError {
            guard case .timedOut = error else { throw error }
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(try await remote.add(1) == 1)
    }

    @Test func callToADownNodeFailsPromptly() async throws {
        let cluster = try ActorCluster(["a", "b"], extra: ["c": "local:nobody-listens-here"])
        defer { cluster.shutdown() }
        let ghost = try Counter.resolve(id: .instance(1, on: "c"), using: cluster["a"])
        let start = ContinuousClock.now
        do {
            _ = try await ghost.add(1)
            Issue.record("call to a down node succeeded")
        } catch let error as WeftActorError {
            guard case .nodeUnreachable(let node, _) = error else { throw error }
            #expect(node == "c")
        }
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func nodeThatShutsDownFailsCallsInFlight() async throws {
        let cluster = try ActorCluster(["a", "b"])
        defer { cluster.shutdown() }
        let remote = try await shutDownNodeDuringACall(in: cluster)
        await #expect(throws: WeftActorError.self) { _ = try await remote.add(1) }
    }

    @Test func unknownPlainActorIsAnErrorReply() async throws {
        let cluster = try ActorCluster(["a", "b"])
        defer { cluster.shutdown() }
        let missing = try Counter.resolve(id: .instance(999, on: "b"), using: cluster["a"])
        do {
            _ = try await missing.add(1)
            Issue.record("call to a missing actor succeeded")
        } catch let error as WeftActorError {
            guard case .remote(.unknownActor, _) = error else { throw error }
        }
    }

    /// Two systems, two IO runtimes, over the real shared-memory transport.
    @Test func callsOverSharedMemory() async throws {
        let cluster = try ActorCluster(["a", "b"], medium: .sharedMemory) { system in
            system.register(Player.self) { key, system in Player(key: key, actorSystem: system) }
        }
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        for expected in 1...100 { #expect(try await remote.add(1) == expected) }
        await #expect(throws: Oops(code: 7)) { try await remote.fail(7) }
        let bob = try cluster["a"].actor(Player.self, key: "shm-bob")
        let owner = try cluster["a"].owner(of: bob.id)
        #expect(try await bob.node() == owner)
        #expect(try await bob.hit() == 1)
        #expect(try await cluster["b"].actor(Player.self, key: "shm-bob").hit() == 2)
    }
}
