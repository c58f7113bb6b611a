import Distributed
import Synchronization

/// Lifecycle hooks of a virtual actor, called on its owning node. State persistence plugs in
/// here: load in `didActivate`, save in `willDeactivate`.
public protocol ActivationHooks: DistributedActor {
    /// Runs after the factory made the actor and before its first call; a thrown error
    /// fails that call with `RemoteFailure.activationFailed` and drops the activation.
    func didActivate() async throws
    /// Runs when the actor has been idle for its idle time-out, before it is dropped.
    func willDeactivate() async
}

extension ActivationHooks {
    public func didActivate() async throws {}
    public func willDeactivate() async {}
}

/// Whether calls to one actor may interleave at their suspension points.
public enum Reentrancy: Sendable {
    /// Swift's default: while a call awaits, another call to the same actor may run.
    case reentrant
    /// One call at a time per actor: the next call starts when the previous one returned.
    case nonReentrant
}

/// Per-type choices for virtual actors, given to `register`.
public struct VirtualActorOptions: Sendable {
    public var placement: PlacementStrategy
    public var reentrancy: Reentrancy
    /// Deactivate after this long without calls; nil: the system's `idleTimeout`.
    public var idleTimeout: Duration?

    public init(placement: PlacementStrategy = .consistentHash, reentrancy: Reentrancy = .reentrant, idleTimeout: Duration? = nil)
    {
        self.placement = placement
        self.reentrancy = reentrancy
        self.idleTimeout = idleTimeout
    }
}

/// The identity `assignID` must hand out while a factory activates a virtual actor:
/// `assignID` cannot be told an identity, so the registry sets this task-local around the
/// factory call. Only the first actor of the expected type made in the call takes it.
final class PendingIdentity: @unchecked Sendable {
    let id: ActorID
    let type: ObjectIdentifier
    private let taken = Atomic<Bool>(false)

    init(id: ActorID, type: ObjectIdentifier) {
        self.id = id
        self.type = type
    }

    func take(for type: ObjectIdentifier) -> ActorID? {
        guard type == self.type, !taken.exchange(true, ordering: .relaxed) else { return nil }
        return id
    }

    var wasTaken: Bool { taken.load(ordering: .relaxed) }

    @TaskLocal static var current: PendingIdentity?
}

/// One live virtual actor on its owning node.
final class ActivationRecord: @unchecked Sendable {
    let id: ActorID
    let instance: any DistributedActor
    let gate: CallGate?
    let idleTimeout: Duration
    // Guarded by the registry's lock.
    var inFlight = 0
    var lastUsed: ContinuousClock.Instant

    init(id: ActorID, instance: any DistributedActor, gate: CallGate?, idleTimeout: Duration) {
        self.id = id
        self.instance = instance
        self.gate = gate
        self.idleTimeout = idleTimeout
        lastUsed = .now
    }
}

func runDidActivate<A: ActivationHooks>(_ actor: A) async throws {
    _ = try await actor.whenLocal { try await $0.didActivate() }
}

func runWillDeactivate<A: ActivationHooks>(_ actor: A) async {
    _ = await actor.whenLocal { await $0.willDeactivate() }
}
