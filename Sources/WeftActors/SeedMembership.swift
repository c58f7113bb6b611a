import Distributed
import Synchronization
import WeftCore

/// Membership through a seed node: a node joins by asking the seed, the seed tells the
/// other members, a member that leaves tells the seed, and the seed removes members that
/// stop answering its heartbeat. Everything travels as ordinary actor calls over the
/// system's own transport (TCP across hosts), so there is no second protocol.
///
/// - The seed owns the virtual actor `MembershipRegistrar` (placement `.node(seed)`).
/// - Each member owns a `MembershipWatcher` keyed by its own name; the seed calls it to
///   announce the table (`update`) and to check it is alive (`ping`).
///
/// Every node starts with a membership holding at least itself and the seed. The seed is
/// a single point of coordination (not of data): while it is down, members keep their last
/// table and nobody can join.
public final class SeedMembership: MembershipProvider, @unchecked Sendable {
    public let seed: String
    /// How often the seed pings every member.
    public let heartbeat: Duration
    /// A member that does not answer a ping within this is removed.
    public let heartbeatTimeout: Duration
    private let state = Locked<(system: WeftActorSystem?, loop: Task<Void, Never>?)>((nil, nil))

    public init(seed: String, heartbeat: Duration = .milliseconds(500), heartbeatTimeout: Duration = .seconds(1)) {
        self.seed = seed
        self.heartbeat = heartbeat
        self.heartbeatTimeout = heartbeatTimeout
    }

    static let registrarType = "weft.membership.registrar"
    static let watcherType = "weft.membership.watcher"

    public func start(on system: WeftActorSystem) async throws {
        state.withLock { $0.system = system }
        system.register(
            MembershipRegistrar.self, name: Self.registrarType, options: VirtualActorOptions(placement: .node(seed))
        ) { _, system in MembershipRegistrar(provider: self, actorSystem: system) }
        system.register(
            MembershipWatcher.self, name: Self.watcherType, options: VirtualActorOptions(placement: .custom { id, _ in id.key })
        ) { _, system in MembershipWatcher(actorSystem: system) }
        if system.name == seed {
            startHeartbeat(system)
            return
        }
        guard let address = system.membership.address(of: system.name) else { throw WeftActorError.unknownNode(system.name) }
        let table = try await registrar(system).join(node: system.name, address: address)
        system.membership.replace(with: table)
    }

    public func leave() async {
        guard let system = state.withLock({ $0.system }) else { return }
        if system.name != seed { try? await registrar(system).leave(node: system.name) }
        stop()
    }

    public func stop() {
        state.withLock { state in
            state.loop?.cancel()
            state = (nil, nil)
        }
    }

    private func registrar(_ system: WeftActorSystem) throws -> MembershipRegistrar {
        try system.actor(MembershipRegistrar.self, key: "members")
    }

    // MARK: On the seed

    private func startHeartbeat(_ system: WeftActorSystem) {
        let loop = Task { [weak self, weak system] in
            while !Task.isCancelled {
                guard let self, let system else { return }
                try? await Task.sleep(for: self.heartbeat)
                var lost: [String] = []
                for node in system.membership.liveMembers where node != self.seed {
                    do {
                        let watcher = try system.actor(MembershipWatcher.self, key: node)
                        try await withCallTimeout(self.heartbeatTimeout) { try await watcher.ping() }
                    } catch {
                        lost.append(node)
                    }
                }
                if !lost.isEmpty {
                    for node in lost { system.membership.remove(node) }
                    await self.announce(on: system, except: nil)
                }
            }
        }
        state.withLock { $0.loop = loop }
    }

    /// Sends the seed's table to every member but the seed and `except`; a member that
    /// does not take it is left to the heartbeat.
    func announce(on system: WeftActorSystem, except: String?) async {
        let table = system.membership.addresses
        await withTaskGroup(of: Void.self) { group in
            for node in table.keys where node != seed && node != except {
                group.addTask {
                    guard let watcher = try? system.actor(MembershipWatcher.self, key: node) else { return }
                    _ = try? await withCallTimeout(self.heartbeatTimeout) { try await watcher.update(table) }
                }
            }
        }
    }
}

/// The seed's registry of members (lives on the seed only).
public distributed actor MembershipRegistrar {
    public typealias ActorSystem = WeftActorSystem
    let provider: SeedMembership

    init(provider: SeedMembership, actorSystem: WeftActorSystem) {
        self.provider = provider
        self.actorSystem = actorSystem
    }

    /// Adds `node`, tells the other members, and answers the whole table.
    public distributed func join(node: String, address: String) async -> [String: String] {
        actorSystem.membership.add(node, address: address)
        actorSystem.membership.markUp(node)
        await provider.announce(on: actorSystem, except: node)
        return actorSystem.membership.addresses
    }

    /// Removes `node` and tells the remaining members.
    public distributed func leave(node: String) async {
        guard actorSystem.membership.remove(node) else { return }
        await provider.announce(on: actorSystem, except: node)
    }
}

/// A member's end of the seed protocol (lives on the node its key names).
public distributed actor MembershipWatcher {
    public typealias ActorSystem = WeftActorSystem

    /// Takes the seed's table as this node's membership (keeping itself in it).
    public distributed func update(_ table: [String: String]) {
        var members = table
        if members[actorSystem.name] == nil, let own = actorSystem.membership.address(of: actorSystem.name) {
            members[actorSystem.name] = own
        }
        actorSystem.membership.replace(with: members)
    }

    public distributed func ping() {}
}
