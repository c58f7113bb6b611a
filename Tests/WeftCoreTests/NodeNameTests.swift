import Testing
import WeftCore

/// `node-name` makes a node's identity stable across restarts.
struct NodeNameTests {
    @Test func sameNameSameIdentity() {
        #expect(NodeIdentity(name: "rank-7") == NodeIdentity(name: "rank-7"))
        #expect(NodeIdentity(name: "rank-7") != NodeIdentity(name: "rank-8"))
    }

    @Test func configuredNameGivesTheIdentity() async throws {
        let named = try WeftConfiguration(
            try await ConfigurationLoader.load(flags: ["node-name": "login-1"], environment: [:]))
        #expect(named.nodeIdentity == NodeIdentity(name: "login-1"))
        #expect(named.nodeIdentity == named.nodeIdentity)
        let unnamed = try WeftConfiguration(try await ConfigurationLoader.load(flags: [:], environment: [:]))
        // Without a name every start gets a fresh random identity.
        #expect(unnamed.nodeIdentity != unnamed.nodeIdentity)
    }
}
