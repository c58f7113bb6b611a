/// Size limits a receiver enforces; a frame beyond them closes the connection.
public struct FrameLimits: Sendable, Equatable {
    /// Largest payload of one frame (a transport may fragment below this).
    public var maxFramePayload: UInt32
    /// Largest message after reassembly of fragments.
    public var maxMessage: UInt32

    /// The protocol's absolute ceiling: 64 MiB per frame and per message.
    @inlinable public static var protocolMaximum: UInt32 { 64 << 20 }

    public init(maxFramePayload: UInt32 = protocolMaximum, maxMessage: UInt32 = protocolMaximum) {
        self.maxFramePayload = min(maxFramePayload, Self.protocolMaximum)
        self.maxMessage = min(maxMessage, Self.protocolMaximum)
    }
}
