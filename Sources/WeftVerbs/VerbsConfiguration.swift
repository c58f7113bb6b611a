import WeftCore

/// The verbs transport's settings, fixed when the transport is made.
///
/// | setting | config key | default | meaning |
/// |---|---|---|---|
/// | `deviceName` | `verbs.device` | first device with an active port | which RDMA device to use (`mlx5_0`, `rxe0`) |
/// | `bufferBytes` | — | 8 KiB | one registered send slot and one receive buffer: the largest frame sent with one send |
/// | `receiveCredits` | — | 64 | receive buffers granted to the peer per connection (its send credits) |
/// | `sendSlots` | — | 64 | registered send slots per connection (frames committed, not yet completed) |
/// | `listenBacklog` | — | 128 | connect requests rdma_cm queues per listener |
public struct VerbsConfiguration: Sendable, Equatable {
    public var deviceName: String?
    public var bufferBytes: Int
    public var receiveCredits: Int
    public var sendSlots: Int
    public var listenBacklog: Int32

    /// Receive buffers posted beyond the credits, for frames that need no credit (credit,
    /// close, handshake): at most four credit frames and one close are ever in flight.
    static let controlReceives = 8
    /// Send slots the IO thread keeps for those frames.
    static let controlSlots = 8
    /// One control slot: a header and the longest close reason.
    static let controlSlotBytes = 512

    public init(deviceName: String? = nil, bufferBytes: Int = 8192, receiveCredits: Int = 64, sendSlots: Int = 64,
                listenBacklog: Int32 = 128) {
        self.deviceName = deviceName.flatMap { $0.isEmpty ? nil : $0 }
        self.bufferBytes = max(1024, bufferBytes) & ~63
        self.receiveCredits = max(8, receiveCredits)
        self.sendSlots = max(8, sendSlots)
        self.listenBacklog = listenBacklog
    }

    public init(_ configuration: WeftConfiguration) {
        self.init(deviceName: configuration.verbsDevice)
    }

    /// Registered bytes one connection takes from the device's pool.
    var connectionBytes: Int {
        sendSlots * bufferBytes + Self.controlSlots * Self.controlSlotBytes
            + (receiveCredits + Self.controlReceives) * bufferBytes
    }
}
