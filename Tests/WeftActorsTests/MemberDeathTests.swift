import BarrelsGame
import Distributed
import Testing
import WeftActors
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A member process killed while a call to one of its actors is in flight: the caller
/// gets an error promptly (not a hang, not the call's time-out), over shm and over TCP.
@Suite(.serialized) struct MemberDeathTests {
    @Test(arguments: ["shm", "tcp"])
    func killedMemberFailsTheCallInFlight(_ transport: String) async throws {
        let addresses = try ClusterAddresses.make(transport: transport, count: 2, tag: "death-\(getpid())-\(transport)")
        let membership = Membership(addresses)
        let (configuration, descriptor) = try await GameConfiguration.load(
            flags: ["transport": transport, "log-level": "critical"], environment: [:], configFile: nil)
        let node = try GameNode(
            name: ClusterAddresses.memberName(0), memberIndex: 0, membership: membership, configuration: configuration,
            descriptor: descriptor,
            callTimeout: .seconds(60))
        defer { node.shutdown() }
        let member = try BarrelsMember(index: 1, addresses: addresses, transport: transport)
        defer { member.kill() }

        // Barrels are dealt round-robin by number: barrel-1 lives on node-1, the member.
        let barrel = try node.system.actor(Barrel.self, key: GameRules.barrelKey(1))
        #expect(try await barrel.node() == "node-1")
        async let braced = barrel.brace(milliseconds: 30_000)
        try await Task.sleep(for: .milliseconds(200))
        let killed = ContinuousClock.now
        member.kill()
        do {
            _ = try await braced
            Issue.record("the call survived its member")
        } catch let error as WeftActorError {
            guard case .connectionLost(let lost, _) = error else { throw error }
            #expect(lost == "node-1")
        }
        #expect(ContinuousClock.now - killed < .seconds(5))

        // The next call to the dead member fails at once too.
        let again = ContinuousClock.now
        await #expect(throws: WeftActorError.self) { _ = try await barrel.shoot() }
        #expect(ContinuousClock.now - again < .seconds(5))
    }
}
