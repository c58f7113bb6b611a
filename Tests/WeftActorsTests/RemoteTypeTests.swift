import Distributed
import Testing
import WeftActors
import WeftCore

/// A peer names types on the wire (a generic method's type arguments, a thrown error's
/// type); a node decodes only the types it allowed, and answers anything else cleanly.
@Suite(.serialized) struct RemoteTypeTests {
    @Test func genericArgumentsMustBeTypesTheCalleeAllowed() async throws {
        let cluster = try ActorCluster(["a", "b"])
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        do {
            let echoed = try await remote.identity(5)
            Issue.record("b decoded a type it never allowed (got \(echoed))")
        } catch let error as WeftActorError {
            guard case .remote(.badArguments, let message) = error else {
                Issue.record("expected a badArguments reply, got \(error)")
                return
            }
            #expect(message.contains("accepts from peers"))
        }
        // The node goes on serving, and an allowed type goes through.
        #expect(try await remote.add(2) == 2)
        cluster["b"].allowRemoteTypes(Int.self)
        #expect(try await remote.identity(5) == 5)
    }

    @Test func aThrownErrorIsRethrownOnlyAsATypeTheCallerAllowed() async throws {
        let cluster = try ActorCluster(["a", "b"], allowOops: false)
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        do {
            try await remote.fail(42)
            Issue.record("no error")
        } catch let error as WeftActorError {
            guard case .remote(.thrown, _) = error else {
                Issue.record("expected the error's description, got \(error)")
                return
            }
        } catch {
            Issue.record("a decoded an error type it never allowed: \(error)")
        }
        cluster["a"].allowRemoteTypes(Oops.self)
        await #expect(throws: Oops(code: 7)) { try await remote.fail(7) }
    }
}
