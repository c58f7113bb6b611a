import WeftCore

/// The verbs transport's settings, fixed when the transport is made.
///
/// | setting | config key | default | meaning |
/// |---|---|---|---|
/// | `deviceName` | `verbs.device` | first device with an active port | which RDMA device to use (`mlx5_0`, `rxe0`) |
/// | `bufferBytes` | `verbs.buffer-size` | 8 KiB | one registered send slot and one receive buffer: the largest frame sent with one send |
/// | `receiveCredits` | `verbs.receive-credits` | 64 | receive buffers granted to the peer per connection (its send credits) |
/// | `rendezvousThreshold` | `verbs.rendezvous-threshold` | 64 KiB | payloads above it (or above one buffer) are read by RDMA, not sent |
/// | `rendezvousBytes` | `verbs.rendezvous-bytes` | 4 MiB | largest payload one RDMA rendezvous moves; 0 turns rendezvous off |
/// | `sendSlots` | — | 64 | registered send slots per connection (frames committed, not yet completed) |
/// | `listenBacklog` | — | 128 | connect requests rdma_cm queues per listener |
public struct VerbsConfiguration: Sendable, Equatable {
    public var deviceName: String?
    public var bufferBytes: Int
    public var receiveCredits: Int
    public var rendezvousThreshold: Int
    public var rendezvousBytes: Int
    public var sendSlots: Int
    public var listenBacklog: Int32

    /// Receive buffers posted beyond the credits, for frames that need no credit (credit,
    /// close, handshake, rendezvousDone): at most four credit frames, one close and one
    /// rendezvousDone per rendezvous in flight are ever unread.
    static let controlReceives = 16
    /// Rendezvous one side may have in flight on a connection (issued, not yet read by the peer).
    static let maxRendezvousInFlight = 8
    /// Send slots the IO thread keeps for those frames.
    static let controlSlots = 8
    /// One control slot: a header and the longest close reason.
    static let controlSlotBytes = 512
    /// Where the rendezvous regions start within a chunk, and their granularity.
    static let pageBytes = 4096

    public init(
        deviceName: String? = nil, bufferBytes: Int = 8192, receiveCredits: Int = 64,
        rendezvousThreshold: Int = 64 << 10, rendezvousBytes: Int = 4 << 20, sendSlots: Int = 64,
        listenBacklog: Int32 = 128
    ) {
        self.deviceName = deviceName.flatMap { $0.isEmpty ? nil : $0 }
        self.bufferBytes = max(1024, bufferBytes) & ~63
        self.receiveCredits = max(8, receiveCredits)
        self.rendezvousThreshold = max(0, rendezvousThreshold)
        self.rendezvousBytes = rendezvousBytes <= 0 ? 0 : (rendezvousBytes + 7) & ~7
        self.sendSlots = max(8, sendSlots)
        self.listenBacklog = listenBacklog
    }

    public init(_ configuration: WeftConfiguration) {
        self.init(
            deviceName: configuration.verbsDevice, bufferBytes: configuration.verbsBufferSize,
            receiveCredits: configuration.verbsReceiveCredits,
            rendezvousThreshold: configuration.verbsRendezvousThreshold,
            rendezvousBytes: configuration.verbsRendezvousBytes)
    }

    /// Bytes of one rendezvous region (a header and `rendezvousBytes` of payload, whole pages).
    var rendezvousRegionBytes: Int {
        rendezvousBytes == 0
            ? 0 : (FrameLayout.headerSize + rendezvousBytes + Self.pageBytes - 1) & ~(Self.pageBytes - 1)
    }

    /// Where the rendezvous regions start in a chunk: after the slots and buffers, on a page.
    var rendezvousOffset: Int {
        let small =
            sendSlots * bufferBytes + Self.controlSlots * Self.controlSlotBytes
            + (receiveCredits + Self.controlReceives) * bufferBytes
        return (small + Self.pageBytes - 1) & ~(Self.pageBytes - 1)
    }

    /// Registered bytes one connection takes from the device's pool: slots and buffers, then
    /// a rendezvous region to send from and one to read into.
    var connectionBytes: Int { rendezvousOffset + 2 * rendezvousRegionBytes }
}
