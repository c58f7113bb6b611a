import WeftCore

/// The TCP transport's settings, fixed when the transport is made.
///
/// | setting | config key | default | meaning |
/// |---|---|---|---|
/// | `sendBufferBytes` | `tcp.send-buffer-bytes` | 4 MiB | per-connection ring of committed, unwritten frames (rounded down to a power of two); full means `.wouldBlock`; one reservation holds at most half of it |
/// | `receiveBufferBytes` | `tcp.receive-buffer-bytes` | 256 KiB | per-connection receive buffer; grows as a larger frame's bytes arrive (up to that frame) and shrinks back once drained |
/// | `listenBacklog` | — | 1024 | pending connections the kernel queues per listener |
/// | `allowUnauthenticatedPeers` | `allow-unauthenticated-peers` | false | without a cluster secret, admit every local user on loopback (unsafe on shared machines); when false, only processes of this user |
public struct TCPConfiguration: Sendable, Equatable {
    public var sendBufferBytes: Int
    public var receiveBufferBytes: Int
    public var listenBacklog: Int32
    public var allowUnauthenticatedPeers: Bool

    public init(
        sendBufferBytes: Int = Int(ConfigKeys.tcpSendBufferBytes.defaultValue) ?? 4 << 20,
        receiveBufferBytes: Int = Int(ConfigKeys.tcpReceiveBufferBytes.defaultValue) ?? 256 << 10,
        listenBacklog: Int32 = 1024, allowUnauthenticatedPeers: Bool = false
    ) {
        // Frames start on 8-byte boundaries; a ring of whole cache lines keeps that true at the wrap.
        self.sendBufferBytes = max(4096, sendBufferBytes) & ~63
        self.receiveBufferBytes = max(4096, receiveBufferBytes) & ~63
        self.listenBacklog = listenBacklog
        self.allowUnauthenticatedPeers = allowUnauthenticatedPeers
    }

    public init(_ configuration: WeftConfiguration) {
        self.init(
            sendBufferBytes: configuration.tcpSendBufferBytes,
            receiveBufferBytes: configuration.tcpReceiveBufferBytes,
            allowUnauthenticatedPeers: configuration.allowUnauthenticatedPeers)
    }
}
