/// What a frame carries. Values are wire constants: never renumber.
public enum MessageKind: UInt8, Sendable, CaseIterable {
    /// Opens a connection: protocol version, node identity, nonce (payload: `HelloPayload`).
    case hello = 1
    /// The acceptor's answer to `hello`, with its own identity, nonce and proof.
    case helloReply = 2
    /// The connector's proof that it holds the cluster secret.
    case auth = 3
    /// An application message; no reply is expected.
    case data = 4
    /// A request; the peer answers with a `response` carrying the same correlation id.
    case request = 5
    /// The answer to a `request`; `FrameFlags.error` marks a failure.
    case response = 6
    /// Grants the peer more receive credits (payload: UInt32 count).
    case credit = 7
    /// Liveness probe; carries no payload and needs no answer.
    case heartbeat = 8
    /// The sender is closing the connection in order (payload: optional UTF-8 reason).
    case close = 9
    /// RDMA rendezvous (verbs only): a frame waits in the sender's registered memory for the
    /// receiver to read (payload: `RendezvousReady`, 24 bytes). Uses one credit, as `data` does.
    case rendezvousReady = 10
    /// RDMA rendezvous (verbs only): the receiver has read the frame; the sender's memory is
    /// free again (payload: `RendezvousDone`, 8 bytes). Uses no credit.
    case rendezvousDone = 11

    /// Kinds that may only appear before the handshake completes.
    @inlinable public var isHandshake: Bool { self == .hello || self == .helloReply || self == .auth }

    /// Kinds only a transport with RDMA rendezvous (verbs) accepts; every other transport
    /// closes the connection they arrive on as a protocol violation.
    @inlinable public var isRendezvous: Bool { self == .rendezvousReady || self == .rendezvousDone }
}
