import Testing
import WeftCore

@testable import BarrelsGame
@testable import WeftActors

#if canImport(Glibc)
    import Glibc
#endif

/// `connectToMembers` opens, ahead of any call, a connection to every live member this node
/// has none to (itself included), and names the members it could not reach.
@Suite(.serialized) struct ConnectToMembersTests {
    @Test(arguments: [ActorCluster.Medium.sharedMemory, .tcp])
    func opensAConnectionToEveryListeningMemberAndNamesTheOthers(_ medium: ActorCluster.Medium) async throws {
        let silent = medium == .tcp ? "127.0.0.1:\(try ClusterAddresses.freeLoopbackPorts(1)[0])" : "shm:nobody-\(getpid())"
        let cluster = try ActorCluster(["a", "b"], medium: medium, extra: ["c": silent])
        defer { cluster.shutdown() }
        let a = cluster["a"]
        #expect(a.connections.outgoing("a") == nil && a.connections.outgoing("b") == nil)

        let failures = await a.connectToMembers()

        #expect(a.connections.outgoing("a") != nil, "no connection to the node itself")
        #expect(a.connections.outgoing("b") != nil, "no connection to the other listening member")
        #expect(Array(failures.keys) == ["c"], "failures: \(failures)")
        // Open connections are kept: a second round connects to nothing new.
        let opened = a.connections.outgoing("b")?.connection
        #expect(await a.connectToMembers().keys.sorted() == ["c"])
        #expect(a.connections.outgoing("b")?.connection === opened)
    }
}

/// The barrels example spreads its members' IO threads over the CPUs it may use.
@Suite struct GameNodePlacementTests {
    @Test func membersWithoutConfiguredCPUsTakeTurnsOverTheAllowedOnes() async throws {
        let allowed = try ThreadAffinity.current()
        let (configuration, _) = try await GameConfiguration.load(flags: ["transport": "tcp"], environment: [:], configFile: nil)
        let chosen = (0..<allowed.count).map { GameNode.ioCPUs(configuration, memberIndex: $0) }
        #expect(chosen == allowed.map { [$0] })
        #expect(GameNode.ioCPUs(configuration, memberIndex: allowed.count) == [allowed[0]])
        let (pinned, _) = try await GameConfiguration.load(
            flags: ["transport": "tcp", "io-cpus": "\(allowed.last!)"], environment: [:], configFile: nil)
        #expect(GameNode.ioCPUs(pinned, memberIndex: 0) == [allowed.last!])
    }
}
