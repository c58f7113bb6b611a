/// Names a distributed actor across the cluster.
///
/// - A plain actor lives on one node: `node` names it, `type` is empty, `key` is the
///   number the node handed out in `assignID`.
/// - A virtual actor is named by its registered type and a key chosen by the user
///   (`Player`, `"Bob"`); `node` is empty, because placement decides the owning node at
///   call time from the live members, so a reference never goes stale.
public struct ActorID: Hashable, Sendable, Codable, CustomStringConvertible {
    public var node: String
    public var type: String
    public var key: String

    public init(node: String, type: String, key: String) {
        self.node = node
        self.type = type
        self.key = key
    }

    /// A plain actor numbered `number` on `node`.
    public static func instance(_ number: UInt64, on node: String) -> ActorID {
        ActorID(node: node, type: "", key: String(number))
    }

    /// The virtual actor of registered type `type` with `key`.
    public static func virtual(type: String, key: String) -> ActorID {
        ActorID(node: "", type: type, key: key)
    }

    public var isVirtual: Bool { !type.isEmpty }

    public var description: String { isVirtual ? "\(type)/\(key)" : "\(key)@\(node)" }
}
