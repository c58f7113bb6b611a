import Distributed
import Logging
import Testing
import WeftActors
import WeftCore
import WeftLocal

#if canImport(Glibc)
    import Glibc
#endif

/// Three systems that meet through a seed: each starts knowing only itself and the seed.
final class SeedCluster: @unchecked Sendable {
    let names = ["a", "b", "c"]
    var systems: [String: WeftActorSystem] = [:]
    var providers: [String: SeedMembership] = [:]
    var runtimes: [IORuntime] = []

    init() async throws {
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var logger = Logger(label: "weft.actors.test")
        logger.logLevel = .critical
        let seedAddress = "local:seed-a-\(tag)"
        for name in names {
            let own = name == "a" ? seedAddress : "local:seed-\(name)-\(tag)"
            let runtime = try IORuntime(progress: .adaptive, spinWindow: .microseconds(20), name: name)
            runtimes.append(runtime)
            let system = try WeftActorSystem(
                WeftActorSystemConfiguration(
                    node: name, membership: Membership(name == "a" ? ["a": own] : [name: own, "a": seedAddress]),
                    callTimeout: .seconds(5)),
                transport: LocalTransport(context: TransportContext(runtime: runtime, logger: logger)), logger: logger)
            system.register(Player.self) { key, system in Player(key: key, actorSystem: system) }
            let provider = SeedMembership(seed: "a", heartbeat: .milliseconds(50), heartbeatTimeout: .milliseconds(300))
            try await provider.start(on: system)
            systems[name] = system
            providers[name] = provider
        }
    }

    subscript(name: String) -> WeftActorSystem { systems[name]! }

    func members(of name: String) -> [String] { systems[name]!.membership.liveMembers }

    /// A Player key whose owner is `node` now.
    func key(ownedBy node: String) throws -> String {
        for index in 0..<1000 {
            let key = "p\(index)"
            if try self["a"].owner(of: self["a"].actor(Player.self, key: key).id) == node { return key }
        }
        throw WeftActorError.unknownNode(node)
    }

    func shutdown() {
        for provider in providers.values { provider.stop() }
        for system in systems.values { system.shutdown() }
        usleep(20_000)
        for runtime in runtimes { runtime.shutdown() }
    }
}

@Suite(.serialized) struct SeedMembershipTests {
    @Test func joiningThroughTheSeedReachesEveryMember() async throws {
        let cluster = try await SeedCluster()
        defer { cluster.shutdown() }
        for name in cluster.names {
            #expect(await eventually { cluster.members(of: name) == ["a", "b", "c"] }, "members of \(name)")
        }
        // Every member places a key on the same owner, and calls reach it.
        let key = try cluster.key(ownedBy: "c")
        #expect(try cluster["b"].owner(of: cluster["b"].actor(Player.self, key: key).id) == "c")
        #expect(try await cluster["b"].actor(Player.self, key: key).node() == "c")
    }

    /// One member leaves: the others drop it, and its virtual actors are activated on the
    /// remaining members at their next call, with fresh state.
    @Test(arguments: [true, false])
    func leavingOrDeadMemberIsRemovedAndItsActorsMove(_ leavesInOrder: Bool) async throws {
        let cluster = try await SeedCluster()
        defer { cluster.shutdown() }
        for name in cluster.names { #expect(await eventually { cluster.members(of: name).count == 3 }) }
        let key = try cluster.key(ownedBy: "c")
        let player = try cluster["b"].actor(Player.self, key: key)
        #expect(try await player.hit() == 1)
        #expect(try await player.hit() == 2)
        #expect(cluster["c"].isActive(player.id))

        if leavesInOrder { await cluster.providers["c"]!.leave() }
        cluster["c"].shutdown()
        for name in ["a", "b"] {
            #expect(await eventually { cluster.members(of: name) == ["a", "b"] }, "\(name) still lists c")
        }
        let owner = try cluster["b"].owner(of: player.id)
        #expect(owner != "c")
        #expect(try await player.node() == owner)
        #expect(try await player.hit() == 1, "reactivated with fresh state")
        #expect(try await cluster["a"].actor(Player.self, key: key).hit() == 2)
    }
}
