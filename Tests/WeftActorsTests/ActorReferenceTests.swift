import Distributed
import Testing
import WeftActors
import WeftCore

/// Actor references travel in calls: decoding one needs the receiving node's actor system,
/// which resolves it to a proxy there (or to the actor itself on its own node).
@Suite(.serialized) struct ActorReferenceTests {
    /// Node a hands node b a reference to an actor on node c; b calls it. Over TCP, so the
    /// reference goes through the real encoder, wire and decoder on each hop.
    @Test func aReferencePassedAsAnArgumentIsCalledByTheCallee() async throws {
        let cluster = try ActorCluster(["a", "b", "c"], medium: .tcp)
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["c"])
        let relay = Relay(actorSystem: cluster["b"])
        let remoteRelay = try Relay.resolve(id: relay.id, using: cluster["a"])
        let counterFromA = try Counter.resolve(id: counter.id, using: cluster["a"])
        #expect(try await remoteRelay.node() == "b")
        #expect(try await remoteRelay.add(through: counterFromA, 5) == 5)
        #expect(try await remoteRelay.add(through: counterFromA, 2) == 7)
        // The calls reached the one counter on c.
        #expect(try await counterFromA.add(0) == 7)
    }

    /// References in a result resolve on the caller's node, and calls through them arrive.
    @Test func referencesReturnedAsAResultCanBeCalled() async throws {
        let cluster = try ActorCluster(["a", "b"], medium: .tcp)
        defer { cluster.shutdown() }
        let first = Counter(actorSystem: cluster["a"])
        let second = Counter(actorSystem: cluster["b"])
        let relay = Relay(actorSystem: cluster["b"])
        let remoteRelay = try Relay.resolve(id: relay.id, using: cluster["a"])
        let sent = [first, try Counter.resolve(id: second.id, using: cluster["a"])]
        let back = try await remoteRelay.handBack(sent)
        #expect(back.map(\.id) == [first.id, second.id])
        #expect(try await back[0].add(3) == 3)
        #expect(try await back[1].add(4) == 4)
        #expect(try await back[1].node() == "b")
    }
}
