import Distributed
import Testing
import WeftActors

@Suite(.serialized) struct VirtualActorTests {
    static func registerAll(_ system: WeftActorSystem, idle: Duration? = nil) {
        system.register(Player.self, options: VirtualActorOptions(idleTimeout: idle)) { key, system in
            Player(key: key, actorSystem: system)
        }
        system.register(Stepper.self) { _, system in Stepper(actorSystem: system) }
        system.register(SerialStepper.self, options: VirtualActorOptions(reentrancy: .nonReentrant)) { _, system in
            SerialStepper(actorSystem: system)
        }
    }

    @Test func referenceCreatesNothingAndEveryNodeReachesOneActivation() async throws {
        let cluster = try ActorCluster(["a", "b", "c"]) { Self.registerAll($0) }
        defer { cluster.shutdown() }
        let bob = try cluster["a"].actor(Player.self, key: "Bob")
        #expect(cluster.systems.values.allSatisfy { $0.activeVirtualActors == 0 })
        let owner = try cluster["a"].owner(of: bob.id)
        #expect(try await bob.hit() == 1)
        #expect(try await cluster["b"].actor(Player.self, key: "Bob").hit() == 2)
        #expect(try await cluster["c"].actor(Player.self, key: "Bob").hit() == 3)
        #expect(try await bob.node() == owner)
        #expect(try await bob.name() == "Bob")
        for (name, system) in cluster.systems {
            #expect(system.activeVirtualActors == (name == owner ? 1 : 0))
            #expect(try system.owner(of: bob.id) == owner)
        }
    }

    @Test func placementSpreadsKeysAndRespectsOverrides() async throws {
        let cluster = try ActorCluster(["a", "b", "c"]) { system in
            Self.registerAll(system)
            system.register(Counter.self, name: "pinned", options: VirtualActorOptions(placement: .node("c"))) { _, system in
                Counter(actorSystem: system)
            }
        }
        defer { cluster.shutdown() }
        var owners: [String: Int] = [:]
        for index in 0..<300 {
            owners[try cluster["a"].owner(of: .virtual(type: "Player", key: "k\(index)")), default: 0] += 1
        }
        #expect(owners.count == 3 && owners.values.allSatisfy { $0 > 30 })
        // Removing a member moves only the keys it owned.
        let full = HashRing(members: ["a", "b", "c"])
        let fewer = HashRing(members: ["a", "b"])
        for index in 0..<300 where full.owner(of: "k\(index)") != "c" {
            #expect(fewer.owner(of: "k\(index)") == full.owner(of: "k\(index)"))
        }
        let pinned = try cluster["a"].actor(Counter.self, key: "anything")
        #expect(try cluster["a"].owner(of: pinned.id) == "c")
        #expect(try await pinned.node() == "c")
        #expect(try await pinned.add(2) == 2)
        #expect(cluster["c"].activeVirtualActors == 1)
    }

    @Test func idleActorsAreDeactivatedFreedAndReactivated() async throws {
        let key = "idle-lifecycle"
        let start = Lifecycle.counts(key)
        let cluster = try ActorCluster(["a", "b"]) { Self.registerAll($0, idle: .milliseconds(150)) }
        defer { cluster.shutdown() }
        let alice = try cluster["a"].actor(Player.self, key: key)
        let owner = cluster[try cluster["a"].owner(of: alice.id)]
        #expect(try await alice.hit() == 1)
        #expect(try await alice.hit() == 2)
        #expect(Lifecycle.counts(key).activations == start.activations + 1)
        #expect(owner.isActive(alice.id))
        #expect(await eventually { owner.activeVirtualActors == 0 })
        #expect(await eventually { Lifecycle.counts(key).live == start.live })
        #expect(Lifecycle.counts(key).deactivations == start.deactivations + 1)
        // The next call reactivates it with fresh state.
        #expect(try await alice.hit() == 1)
        #expect(Lifecycle.counts(key).activations == start.activations + 2)
    }

    @Test func unregisteredTypeIsAnErrorReplyAndTheNodeGoesOn() async throws {
        let cluster = try ActorCluster(["a", "b"]) { system in
            if system.name == "a" { Self.registerAll(system) }
        }
        defer { cluster.shutdown() }
        var missing: Player?
        for index in 0..<50 {
            let candidate = try cluster["a"].actor(Player.self, key: "p\(index)")
            if try cluster["a"].owner(of: candidate.id) == "b" {
                missing = candidate
                break
            }
        }
        let player = try #require(missing)
        do {
            _ = try await player.hit()
            Issue.record("call to an unregistered type succeeded")
        } catch let error as WeftActorError {
            guard case .remote(.unknownActor, _) = error else { throw error }
        }
        let counter = Counter(actorSystem: cluster["b"])
        #expect(try await Counter.resolve(id: counter.id, using: cluster["a"]).add(3) == 3)
    }

    /// Reentrant (default): the second call starts while the first awaits.
    /// Non-reentrant: the second starts only after the first returned.
    @Test func reentrancyIsOptInPerType() async throws {
        let cluster = try ActorCluster(["a", "b"]) { Self.registerAll($0) }
        defer { cluster.shutdown() }
        let interleaving = try cluster["a"].actor(Stepper.self, key: "s")
        async let first: Void = interleaving.step("1")
        try await Task.sleep(for: .milliseconds(20))
        async let second: Void = interleaving.step("2")
        _ = try await (first, second)
        #expect(try await interleaving.entries() == ["start 1", "start 2", "end 1", "end 2"])

        let serial = try cluster["a"].actor(SerialStepper.self, key: "s")
        async let one: Void = serial.step("1")
        try await Task.sleep(for: .milliseconds(20))
        async let two: Void = serial.step("2")
        _ = try await (one, two)
        #expect(try await serial.entries() == ["start 1", "end 1", "start 2", "end 2"])
    }
}
