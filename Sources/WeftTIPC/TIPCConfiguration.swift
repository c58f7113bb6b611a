import WeftCore

/// The TIPC transport's settings, fixed when the transport is made.
///
/// | setting | config key | default | meaning |
/// |---|---|---|---|
/// | `serviceType` | `tipc.service-type` | 18888 | type of the service names Weft publishes and discovers |
/// | `allowUnauthenticatedPeers` | `allow-unauthenticated-peers` | false | listen without a cluster secret (unsafe: TIPC has no per-connection credentials) |
/// | `sendBufferBytes` | — | 1 MiB | per-connection ring of committed frames not yet sent (power of two); full means `.wouldBlock` |
/// | `receiveSlots` | — | 16 | messages one `recvmmsg` takes; each slot holds one 66,000-byte TIPC message, and only the pages a message touches are used |
/// | `listenBacklog` | — | 1024 | connections the kernel queues per listener |
public struct TIPCConfiguration: Sendable, Equatable {
    public var serviceType: UInt32
    public var allowUnauthenticatedPeers: Bool
    public var sendBufferBytes: Int
    public var receiveSlots: Int
    public var listenBacklog: Int32

    public init(
        serviceType: UInt32 = UInt32(ConfigKeys.tipcServiceType.defaultValue) ?? 18888,
        allowUnauthenticatedPeers: Bool = false, sendBufferBytes: Int = 1 << 20, receiveSlots: Int = 16,
        listenBacklog: Int32 = 1024
    ) {
        self.serviceType = serviceType
        self.allowUnauthenticatedPeers = allowUnauthenticatedPeers
        // A power of two, and room for at least two maximum-size messages.
        let wanted = max(sendBufferBytes, 4 * TIPCSyscalls.maxMessageBytes)
        self.sendBufferBytes = 1 << (Int.bitWidth - (wanted - 1).leadingZeroBitCount)
        self.receiveSlots = min(max(receiveSlots, 1), TIPCSyscalls.batchLimit)
        self.listenBacklog = listenBacklog
    }

    public init(_ configuration: WeftConfiguration) {
        self.init(
            serviceType: configuration.tipcServiceType,
            allowUnauthenticatedPeers: configuration.allowUnauthenticatedPeers)
    }

    /// Largest frame payload one TIPC message carries: the message limit less the header.
    static var maxFramePayload: Int { (TIPCSyscalls.maxMessageBytes - FrameLayout.headerSize) & ~7 }
}
