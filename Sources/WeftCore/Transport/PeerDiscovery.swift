/// A peer that a transport's discovery found: its name as a cluster member, and the
/// address to connect to it.
public struct DiscoveredPeer: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var address: String

    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }

    public var description: String { name == address ? name : "\(name) at \(address)" }
}

/// What a discovery reports, in the order it learned it.
public enum DiscoveryEvent: Sendable, Equatable {
    /// The peer published its address (a listener started).
    case up(DiscoveredPeer)
    /// The peer withdrew it: its process ended, it closed its listener, or its node was lost.
    case down(DiscoveredPeer)
}

/// Finds peers without a member list: a transport that can see who listens in the cluster
/// (TIPC through its topology server) implements it, and the actor layer turns its events
/// into membership changes.
public protocol PeerDiscovery: AnyObject, Sendable {
    /// Starts reporting: first every peer already up, then changes, each on the discovery's
    /// own thread, until `stop`.
    func start(_ report: @escaping @Sendable (DiscoveryEvent) -> Void) throws(TransportError)
    func stop()
}

/// A transport that can discover its peers.
public protocol DiscoveringTransport: Transport {
    /// A discovery of the peers listening for this transport's service.
    func makeDiscovery() -> any PeerDiscovery
}
