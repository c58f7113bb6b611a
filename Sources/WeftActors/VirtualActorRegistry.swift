import Distributed
import Synchronization
import WeftCore

/// A virtual actor type known to this node: its wire name, options and factory.
struct RegisteredType: Sendable {
    let name: String
    let options: VirtualActorOptions
    let type: ObjectIdentifier
    /// The type has `ActivationHooks`: activating it awaits `didActivate`.
    let hasHooks: Bool
    let make: @Sendable (String, WeftActorSystem) throws -> any DistributedActor
}

/// The virtual actors this node owns: activates on first call, counts calls in flight,
/// and deactivates the idle. Every transition happens under one lock; waiting for an
/// activation or a deactivation to finish happens outside it.
final class VirtualActorRegistry: Sendable {
    private enum Slot {
        case active(ActivationRecord)
        /// Being made on some thread by `activateNow`, which never waits.
        case claimed
        case activating(Task<Void, any Error>)
        case deactivating(Task<Void, Never>)
    }
    private let types = Locked<[String: RegisteredType]>([:])
    private let typeNames = Locked<[ObjectIdentifier: String]>([:])
    private let slots = Locked<[ActorID: Slot]>([:])

    func register(_ type: RegisteredType) {
        types.withLock { $0[type.name] = type }
        typeNames.withLock { $0[type.type] = type.name }
    }

    func registered(_ name: String) -> RegisteredType? { types.withLock { $0[name] } }

    func name(of type: ObjectIdentifier) -> String? { typeNames.withLock { $0[type] } }

    /// Number of live activations (tests, metrics).
    var activeCount: Int {
        slots.withLock {
            $0.values.reduce(0) { count, slot in if case .active = slot { return count + 1 } else { return count } }
        }
    }

    func isActive(_ id: ActorID) -> Bool { slots.withLock { if case .active = $0[id] { return true } else { return false } } }

    /// The activation, counted as busy, if it is live now (the fast path: no waiting).
    func beginCall(_ id: ActorID) -> ActivationRecord? {
        slots.withLock { slots in
            guard case .active(let record) = slots[id] else { return nil }
            record.inFlight += 1
            record.lastUsed = .now
            return record
        }
    }

    func endCall(_ record: ActivationRecord) {
        slots.withLock { _ in
            record.inFlight -= 1
            record.lastUsed = .now
        }
    }

    /// Activates `id` unless live, waiting out a deactivation in progress; counts the call.
    func activate(_ id: ActorID, system: WeftActorSystem) async throws -> ActivationRecord {
        while true {
            enum Next {
                case ready(ActivationRecord)
                case claimed
                case activating(Task<Void, any Error>)
                case deactivating(Task<Void, Never>)
            }
            let next = slots.withLock { slots -> Next in
                switch slots[id] {
                case .active(let record):
                    record.inFlight += 1
                    record.lastUsed = .now
                    return .ready(record)
                case .claimed: return .claimed
                case .activating(let task): return .activating(task)
                case .deactivating(let task): return .deactivating(task)
                case nil:
                    let task = Task { try await self.runActivation(id, system: system) }
                    slots[id] = .activating(task)
                    return .activating(task)
                }
            }
            switch next {
            case .ready(let record): return record
            case .claimed: await Task.yield()
            case .activating(let task): try await task.value
            case .deactivating(let task): await task.value
            }
        }
    }

    /// What `activateNow` did.
    enum ImmediateActivation {
        /// Live (or made), and the call counted.
        case activated(ActivationRecord)
        /// Something is live or under way, or the type has hooks to await: use `activate`.
        case notNow
        /// The factory failed (nothing left behind).
        case failed(any Error)
    }

    /// The live activation of `id`, counted as busy, or one made on the calling thread
    /// (`activateNow`): what both serve paths try before anything that waits.
    func beginCallOrActivateNow(_ id: ActorID, system: WeftActorSystem) -> ImmediateActivation {
        if let live = beginCall(id) { return .activated(live) }
        return activateNow(id, system: system)
    }

    /// Activates `id` on the calling thread, without waiting, when nothing is live or under
    /// way for it and its type has no `ActivationHooks`; counts the call.
    func activateNow(_ id: ActorID, system: WeftActorSystem) -> ImmediateActivation {
        guard let type = registered(id.type), !type.hasHooks else { return .notNow }
        let claimed = slots.withLock { slots -> Bool in
            guard slots[id] == nil else { return false }
            slots[id] = .claimed
            return true
        }
        guard claimed else { return .notNow }
        do {
            let record = try Self.make(id, type, system: system)
            record.inFlight = 1
            // A shutdown meanwhile (`removeAll`) keeps the slot empty.
            let kept = slots.withLock { slots -> Bool in
                guard case .claimed = slots[id] else { return false }
                slots[id] = .active(record)
                return true
            }
            return kept ? .activated(record) : .failed(WeftActorError.shutDown)
        } catch {
            slots.withLock { slots in if case .claimed = slots[id] { slots[id] = nil } }
            return .failed(error)
        }
    }

    private func runActivation(_ id: ActorID, system: WeftActorSystem) async throws {
        do {
            guard let type = registered(id.type) else { throw WeftActorError.unregisteredType(id.type) }
            let record = try Self.make(id, type, system: system)
            if let hooks = record.instance as? any ActivationHooks { try await runDidActivate(hooks) }
            slots.withLock { $0[id] = .active(record) }
        } catch {
            slots.withLock { $0[id] = nil }
            throw error
        }
    }

    /// Runs the factory with the identity it must hand out (`PendingIdentity`).
    private static func make(_ id: ActorID, _ type: RegisteredType, system: WeftActorSystem) throws -> ActivationRecord {
        let pending = PendingIdentity(id: id, type: type.type)
        let instance = try PendingIdentity.$current.withValue(pending) { try type.make(id.key, system) }
        guard pending.wasTaken, let made = instance.id as? ActorID, made == id else {
            throw ActivationError("the factory of \(type.name) did not create a \(type.name) (it made \(instance.id))")
        }
        return ActivationRecord(
            id: id, instance: instance, gate: type.options.reentrancy == .nonReentrant ? CallGate() : nil,
            idleTimeout: type.options.idleTimeout ?? system.configuration.idleTimeout)
    }

    /// Deactivates every activation idle past its time-out (run by the system's ticker).
    func sweep(now: ContinuousClock.Instant) {
        slots.withLock { slots in
            for (id, slot) in slots {
                guard case .active(let record) = slot, record.inFlight == 0, now - record.lastUsed >= record.idleTimeout
                else { continue }
                let task = Task {
                    if let hooks = record.instance as? any ActivationHooks { await runWillDeactivate(hooks) }
                    self.finishDeactivation(id)
                }
                slots[id] = .deactivating(task)
            }
        }
    }

    private func finishDeactivation(_ id: ActorID) {
        slots.withLock { slots in
            if case .deactivating = slots[id] { slots[id] = nil }
        }
    }

    /// Drops every activation (shutdown), without running hooks.
    func removeAll() { slots.withLock { $0.removeAll() } }
}

/// The factory or `didActivate` failed.
struct ActivationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
