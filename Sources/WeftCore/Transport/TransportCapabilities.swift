/// What a transport promises, declared once and checked at setup (never per message).
public struct TransportCapabilities: Sendable, Equatable {
    /// Delivers every committed frame unless the connection fails.
    public var reliable: Bool
    /// Delivers frames of one connection in commit order.
    public var ordered: Bool
    /// Largest message the transport accepts (fragmented below as needed).
    public var maxMessageSize: Int
    /// Largest payload of one frame on the medium (TIPC: about 66,000 bytes).
    public var maxFramePayload: Int
    /// Receive views point at the memory the data landed in (no copy by Weft).
    public var zeroCopyReceive: Bool
    /// Send reservations are in memory the peer or the device reads directly.
    public var zeroCopySend: Bool
    /// Copies that remain, for the docs and `weft info` (for example "kernel socket copy").
    public var remainingCopies: String
    /// Progress modes the transport supports.
    public var progressModes: Set<ProgressMode>

    public init(
        reliable: Bool, ordered: Bool, maxMessageSize: Int, maxFramePayload: Int, zeroCopyReceive: Bool,
        zeroCopySend: Bool, remainingCopies: String, progressModes: Set<ProgressMode> = Set(ProgressMode.allCases)
    ) {
        self.reliable = reliable
        self.ordered = ordered
        self.maxMessageSize = maxMessageSize
        self.maxFramePayload = maxFramePayload
        self.zeroCopyReceive = zeroCopyReceive
        self.zeroCopySend = zeroCopySend
        self.remainingCopies = remainingCopies
        self.progressModes = progressModes
    }
}
