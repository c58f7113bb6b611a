import Synchronization
import WeftCore

/// The cluster's members: node name → transport address. It starts as a static list (the
/// same on every node) and may change at run time when a `MembershipProvider` (a seed
/// node, later a transport's discovery) adds and removes members. A member can also be
/// marked down by hand. Placement reads the live members at every call, so it follows
/// every change.
public final class Membership: Sendable {
    private let table: Locked<[String: String]>
    private let down = Locked<Set<String>>([])

    public init(_ addresses: [String: String]) { table = Locked(addresses) }

    /// Every member's address, down or not.
    public var addresses: [String: String] { table.withLock { $0 } }

    public func address(of node: String) -> String? { table.withLock { $0[node] } }

    /// Members not marked down, sorted by name.
    public var liveMembers: [String] {
        let down = down.withLock { $0 }
        return table.withLock { $0.keys.filter { !down.contains($0) } }.sorted()
    }

    public func markDown(_ node: String) { _ = down.withLock { $0.insert(node) } }

    public func markUp(_ node: String) { _ = down.withLock { $0.remove(node) } }

    /// Adds `node` (or moves it to `address`); returns whether anything changed.
    @discardableResult
    public func add(_ node: String, address: String) -> Bool {
        table.withLock { table in
            guard table[node] != address else { return false }
            table[node] = address
            return true
        }
    }

    /// Removes `node`; returns whether it was a member.
    @discardableResult
    public func remove(_ node: String) -> Bool { table.withLock { $0.removeValue(forKey: node) != nil } }

    /// Takes `members` as the whole table (what a seed announces); returns whether it changed.
    @discardableResult
    public func replace(with members: [String: String]) -> Bool {
        table.withLock { table in
            guard table != members else { return false }
            table = members
            return true
        }
    }
}
