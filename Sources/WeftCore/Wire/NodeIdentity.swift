/// A node's 128-bit identity, random at start-up unless configured.
public struct NodeIdentity: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static func random() -> NodeIdentity {
        var generator = SystemRandomNumberGenerator()
        return NodeIdentity(high: generator.next(), low: generator.next())
    }

    public var description: String { Self.hex(high) + Self.hex(low) }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
