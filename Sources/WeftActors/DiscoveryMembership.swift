import WeftCore

/// Membership from a transport's own discovery (TIPC's topology server): a peer that
/// publishes its listener joins, one whose listener is withdrawn (its process ended, or
/// link supervision lost its node) leaves, and placement follows at the next call. No
/// member list and no seed: every node is equal, so there is no single point of failure.
///
/// Members are named by the discovery (TIPC: the service address, `18888:2`), so a
/// system using it is named the same way: its own listen address.
public final class DiscoveryMembership: MembershipProvider, @unchecked Sendable {
    let discovery: any PeerDiscovery

    public init(discovery: any PeerDiscovery) { self.discovery = discovery }

    /// A discovery membership over `transport`; nil when it cannot discover its peers
    /// (then give a member list or a seed).
    public convenience init?(transport: any Transport) {
        guard let discovering = transport as? any DiscoveringTransport else { return nil }
        self.init(discovery: discovering.makeDiscovery())
    }

    public func start(on system: WeftActorSystem) async throws {
        let membership = system.membership
        let own = system.name
        try discovery.start { event in
            switch event {
            case .up(let peer):
                membership.add(peer.name, address: peer.address)
                membership.markUp(peer.name)
            case .down(let peer):
                // Calls in flight to it fail with its connection, which the kernel aborts.
                if peer.name != own { membership.remove(peer.name) }
            }
        }
    }

    /// Closing the system's listener withdraws its name: the others see it leave at once.
    public func leave() async { stop() }

    public func stop() { discovery.stop() }
}
