import Synchronization

/// The cluster's members: a static list of node name → transport address, the same on
/// every node. A member can be marked down by hand; placement then skips it.
public final class Membership: Sendable {
    public let addresses: [String: String]
    private let down = Mutex<Set<String>>([])

    public init(_ addresses: [String: String]) { self.addresses = addresses }

    public func address(of node: String) -> String? { addresses[node] }

    /// Members not marked down, sorted by name.
    public var liveMembers: [String] {
        let down = down.withLock { $0 }
        return addresses.keys.filter { !down.contains($0) }.sorted()
    }

    public func markDown(_ node: String) { _ = down.withLock { $0.insert(node) } }

    public func markUp(_ node: String) { _ = down.withLock { $0.remove(node) } }
}
