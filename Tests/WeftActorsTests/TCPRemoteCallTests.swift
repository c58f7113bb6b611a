import Distributed
import Testing
import WeftActors
import WeftCore

/// The remote-call test of `RemoteCallTests.callsOverSharedMemory`, over TCP on loopback.
@Suite(.serialized) struct TCPRemoteCallTests {
    @Test func callsOverTCP() async throws {
        let cluster = try ActorCluster(["a", "b"], medium: .tcp) { system in
            system.register(Player.self) { key, system in Player(key: key, actorSystem: system) }
        }
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        for expected in 1...100 { #expect(try await remote.add(1) == expected) }
        await #expect(throws: Oops(code: 7)) { try await remote.fail(7) }
        let payload = Payload(
            name: "Bob", scores: [1, 2], tags: ["k": 3], note: "hi", nested: [Inner(id: 1, flag: false)], small: 1, ratio: 2)
        #expect(try await remote.echo(payload) == payload)
        let bytes = try await remote.big(300_000)
        #expect(bytes.count == 300_000 && bytes.allSatisfy { $0 == 7 })
        let bob = try cluster["a"].actor(Player.self, key: "tcp-bob")
        let owner = try cluster["a"].owner(of: bob.id)
        #expect(try await bob.node() == owner)
        #expect(try await bob.hit() == 1)
        #expect(try await cluster["b"].actor(Player.self, key: "tcp-bob").hit() == 2)
    }

    @Test func nodeThatShutsDownFailsCallsInFlightOverTCP() async throws {
        let cluster = try ActorCluster(["a", "b"], medium: .tcp)
        defer { cluster.shutdown() }
        _ = try await shutDownNodeDuringACall(in: cluster)
    }
}
