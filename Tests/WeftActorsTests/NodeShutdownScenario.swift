import Testing
import WeftActors

/// Node b of `cluster` shuts down while a call to it is in flight: the caller must get
/// `connectionLost` within a second. Returns the now stale reference to b's actor.
func shutDownNodeDuringACall(in cluster: ActorCluster) async throws -> Counter {
    let counter = Counter(actorSystem: cluster["b"])
    let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
    #expect(try await remote.add(1) == 1)
    async let slow: Void = remote.sleep(milliseconds: 3000)
    try await Task.sleep(for: .milliseconds(100))
    cluster["b"].shutdown()
    let start = ContinuousClock.now
    do {
        try await slow
        Issue.record("call survived its node")
    } catch let error as WeftActorError {
        guard case .connectionLost = error else { throw error }
    }
    #expect(ContinuousClock.now - start < .seconds(1))
    return remote
}
