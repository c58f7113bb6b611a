import Synchronization
import WeftCore

/// Where a virtual actor of a type is activated.
public enum PlacementStrategy: Sendable {
    /// On the owner of the actor's key on a consistent-hashing ring over the live members.
    case consistentHash
    /// Always on this node.
    case node(String)
    /// Chosen by a function of the identity and the live members (sorted); it must give
    /// the same answer on every node.
    case custom(@Sendable (ActorID, [String]) -> String)
}

/// A consistent-hashing ring: each member owns `pointsPerMember` points; a key belongs to
/// the first point at or after its hash. Adding or removing a member moves only the keys
/// of the points it gains or loses. Hashes are FNV-1a with a 64-bit finaliser: stable
/// across processes and runs (Swift's `Hasher` is seeded per process).
public struct HashRing: Sendable {
    public let members: [String]
    private let points: [(hash: UInt64, member: String)]

    public init(members: [String], pointsPerMember: Int = 64) {
        self.members = members
        var points: [(hash: UInt64, member: String)] = []
        points.reserveCapacity(members.count * pointsPerMember)
        for member in members {
            for index in 0..<pointsPerMember { points.append((Self.hash("\(member)#\(index)"), member)) }
        }
        self.points = points.sorted { $0.hash < $1.hash || ($0.hash == $1.hash && $0.member < $1.member) }
    }

    public func owner(of key: String) -> String? {
        guard !points.isEmpty else { return nil }
        let target = Self.hash(key)
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].hash < target { low = middle + 1 } else { high = middle }
        }
        return points[low == points.count ? 0 : low].member
    }

    public static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        value ^= value >> 33
        value = value &* 0xff51_afd7_ed55_8ccd
        value ^= value >> 33
        value = value &* 0xc4ce_b9fe_1a85_ec53
        value ^= value >> 33
        return value
    }
}

/// Decides the owning node of virtual actors, caching the ring for the current live set.
final class Placement: Sendable {
    private let membership: Membership
    private let ring = Locked<HashRing?>(nil)

    init(membership: Membership) { self.membership = membership }

    func owner(of id: ActorID, strategy: PlacementStrategy) -> String? {
        let live = membership.liveMembers
        switch strategy {
        case .node(let node): return node
        case .custom(let choose): return live.isEmpty ? nil : choose(id, live)
        case .consistentHash:
            let current = ring.withLock { cached -> HashRing in
                if let cached, cached.members == live { return cached }
                let fresh = HashRing(members: live)
                cached = fresh
                return fresh
            }
            return current.owner(of: "\(id.type)/\(id.key)")
        }
    }
}
