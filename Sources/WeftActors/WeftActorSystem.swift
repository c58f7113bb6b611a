import Distributed
import Logging
import Synchronization
import WeftCore

/// Settings of one actor system (one node).
public struct WeftActorSystemConfiguration: Sendable {
    /// This node's name; its address is `membership.address(of: node)`.
    public var node: String
    public var membership: Membership
    /// How long a remote call waits for its reply unless `withCallTimeout` says otherwise.
    public var callTimeout: Duration
    /// How long a virtual actor may go without calls before it is deactivated.
    public var idleTimeout: Duration
    /// How often deadlines and idle actors are checked: the precision of both.
    public var tick: Duration
    /// Reservation tried first for a call or reply; larger ones take the growable path.
    public var preferredReservation: Int
    /// Serve incoming calls in tasks that prefer the receiving connection's IO thread
    /// (`IOThreadExecutor`): a call to an actor bound to that thread then runs without a
    /// thread hop. Off: every call starts on Swift's global executor.
    public var servesOnIOThreads: Bool
    /// Calls one connection may have in progress here (received, reply not yet handed to
    /// the connection). At the bound the connection reads nothing more until one is
    /// answered: a peer that never reads its replies stalls alone, in bounded memory.
    public var maxUnansweredCalls: Int

    public init(
        node: String, membership: Membership, callTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(300),
        tick: Duration = .milliseconds(10), preferredReservation: Int = 4096, servesOnIOThreads: Bool = true,
        maxUnansweredCalls: Int = 256
    ) {
        self.node = node
        self.membership = membership
        self.callTimeout = callTimeout
        self.idleTimeout = idleTimeout
        self.tick = tick
        self.preferredReservation = preferredReservation
        self.servesOnIOThreads = servesOnIOThreads
        self.maxUnansweredCalls = maxUnansweredCalls
    }
}

/// A `DistributedActorSystem` whose remote calls are Weft frames on any transport: a call
/// is a `request` frame (layout in `CallEnvelope`), its result a `response` with the same
/// correlation id, a thrown error a `response` with `FrameFlags.error`.
///
/// Plain distributed actors live where they were made. Virtual actors (`register`, then
/// `actor(_:key:)`) are activated on first call on the node placement picks, and
/// deactivated when idle.
public final class WeftActorSystem: DistributedActorSystem, @unchecked Sendable {
    public typealias ActorID = WeftActors.ActorID
    public typealias InvocationEncoder = WeftInvocationEncoder
    public typealias InvocationDecoder = WeftInvocationDecoder
    public typealias ResultHandler = WeftResultHandler
    public typealias SerializationRequirement = Codable

    public let configuration: WeftActorSystemConfiguration
    public var name: String { configuration.node }
    public var membership: Membership { configuration.membership }
    let transport: any Transport
    let logger: Logger
    let pending = PendingCalls()
    let registry = VirtualActorRegistry()
    /// Registered entry points of local actors' methods (`RegisteredMethods`).
    let methods = MethodResolver()
    let preparation = TypePreparation()
    /// What peers may name by type (`allowRemoteTypes`).
    let remoteTypes = RemoteTypes()
    let placement: Placement
    let connections = NodeConnections()
    private let localActors = Locked<[ActorID: LocalActorEntry]>([:])
    private let nextInstance = Atomic<UInt64>(1)
    private let listener: Locked<(any TransportListener)?>
    private let ticker = Locked<Task<Void, Never>?>(nil)
    let isShutDown = Atomic<Bool>(false)
    /// Actors bound to an IO thread (`bind(_:to:)`), for their `unownedExecutor`.
    let boundExecutors = Locked<[ActorID: ExecutorBinding]>([:])

    /// An identity's executor, and how many live instances bound it: a virtual actor's new
    /// activation may bind before the previous instance is gone, whose `resignID` must not
    /// take the new one's binding away.
    struct ExecutorBinding {
        var executor: IOThreadExecutor
        var instances: Int
    }

    struct LocalActorEntry {
        weak var instance: (any DistributedActor)?
    }

    /// Starts listening at this node's address from `membership`.
    public init(
        _ configuration: WeftActorSystemConfiguration, transport: any Transport, logger: Logger = Logger(label: "weft.actors")
    ) throws {
        guard let address = configuration.membership.address(of: configuration.node) else {
            throw WeftActorError.unknownNode(configuration.node)
        }
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        placement = Placement(membership: configuration.membership)
        listener = Locked(nil)
        let accepted = try transport.listen(at: address, options: ConnectionOptions(concurrentSenders: true)) { [weak self] _ in
            SystemConnectionHandler(system: self, node: nil)
        }
        listener.withLock { $0 = accepted }
        startTicker()
    }

    private func startTicker() {
        let tick = configuration.tick
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard let self else { return }
                let now = ContinuousClock.now
                self.pending.expire(now: now)
                self.registry.sweep(now: now)
            }
        }
        ticker.withLock { $0 = task }
    }

    /// Stops serving: closes the listener and every connection, fails calls still waiting.
    public func shutdown() {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        ticker.withLock { $0?.cancel() }
        listener.withLock { $0?.close() }
        for connection in connections.removeAll() { connection.close() }
        pending.failAll(WeftActorError.shutDown)
        registry.removeAll()
    }

    deinit { ticker.withLock { $0?.cancel() } }

    /// Lets peers name `types`: as the generic arguments of a call to a generic distributed
    /// method, and as the Codable error a remote method threw (which the caller then rethrows
    /// as itself). Any other type a peer names is refused: a call gets a `badArguments` error
    /// reply, an error reply becomes `WeftActorError.remote(.thrown, …)` with its message.
    public func allowRemoteTypes(_ types: any Any.Type...) {
        for type in types { remoteTypes.allow(type) }
    }

    // MARK: Virtual actors

    /// Makes `type` activatable on this node under `name` (default: its qualified Swift name).
    /// Every node that may own such actors registers the same type with the same options.
    public func register<A: DistributedActor>(
        _ type: A.Type, name: String? = nil, options: VirtualActorOptions = VirtualActorOptions(),
        factory: @escaping @Sendable (_ key: String, _ system: WeftActorSystem) throws -> A
    ) where A.ActorSystem == WeftActorSystem {
        registry.register(
            RegisteredType(
                name: name ?? String(reflecting: type), options: options, type: ObjectIdentifier(type),
                hasHooks: type is any ActivationHooks.Type, make: { key, system in try factory(key, system) }))
        if let sample = try? actor(type, key: "") { preparation.prepare(sample, system: self) }
    }

    /// A reference to the virtual actor `key` of `type`. Creates nothing: the first call
    /// activates it on its owning node.
    public func actor<A: DistributedActor>(_ type: A.Type, key: String) throws -> A where A.ActorSystem == WeftActorSystem {
        let typeName = registry.name(of: ObjectIdentifier(type)) ?? String(reflecting: type)
        return try A.resolve(id: .virtual(type: typeName, key: key), using: self)
    }

    /// Live virtual activations on this node.
    public var activeVirtualActors: Int { registry.activeCount }

    public func isActive(_ id: ActorID) -> Bool { registry.isActive(id) }

    /// The node that owns `id` now (virtual: by placement; plain: the node in the identity).
    public func owner(of id: ActorID) throws -> String {
        guard id.isVirtual else { return id.node }
        let strategy = registry.registered(id.type)?.options.placement ?? .consistentHash
        guard let node = placement.owner(of: id, strategy: strategy) else {
            throw WeftActorError.unknownNode("(no live members)")
        }
        return node
    }

    // MARK: DistributedActorSystem

    public func resolve<Act: DistributedActor>(id: ActorID, as actorType: Act.Type) throws -> Act? where Act.ID == ActorID {
        // Virtual actors are always reached through the system, so references never pin an activation.
        if id.isVirtual || id.node != name { return nil }
        guard let instance = localActors.withLock({ $0[id]?.instance }) else { return nil }
        return instance as? Act
    }

    public func assignID<Act: DistributedActor>(_ actorType: Act.Type) -> ActorID where Act.ID == ActorID {
        if let pending = PendingIdentity.current, let id = pending.take(for: ObjectIdentifier(actorType)) { return id }
        return .instance(nextInstance.wrappingAdd(1, ordering: .relaxed).oldValue, on: name)
    }

    public func actorReady<Act: DistributedActor>(_ actor: Act) where Act.ID == ActorID {
        guard !actor.id.isVirtual else { return }
        preparation.prepare(actor, system: self)
        localActors.withLock { $0[actor.id] = LocalActorEntry(instance: actor) }
    }

    public func resignID(_ id: ActorID) {
        boundExecutors.withLock { bindings in
            guard let binding = bindings[id] else { return }
            if binding.instances > 1 { bindings[id]?.instances -= 1 } else { bindings[id] = nil }
        }
        guard !id.isVirtual else { return }
        _ = localActors.withLock { $0.removeValue(forKey: id) }
    }

    func localInstance(_ id: ActorID) -> (any DistributedActor)? { localActors.withLock { $0[id]?.instance } }

    public func makeInvocationEncoder() -> InvocationEncoder { WeftInvocationEncoder() }
}
