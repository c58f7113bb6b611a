import Logging
import WeftCore

/// Weft over Linux TIPC: one `SOCK_SEQPACKET` connection per peer, addressed by service
/// name (`TYPE:INSTANCE`), one Weft frame per TIPC message (docs/transports/tipc.md).
///
/// - Send: reserve in the connection's send ring, write in place, commit; up to 64
///   committed frames leave in one `sendmmsg`, gathered from the ring. The one remaining
///   copy is the kernel's.
/// - Receive: one `recvmmsg` lands up to `receiveSlots` messages in the connection's slots,
///   delivered in place. The one remaining copy is the kernel's (fragmented messages add
///   one, into the reassembly buffer).
/// - Who may connect: TIPC carries no credentials, so peers prove they hold the cluster
///   secret in the handshake; without a secret the transport refuses to listen unless
///   `allow-unauthenticated-peers` is set.
/// - Flow control is TIPC's own connection window: a congested connection makes the
///   writer stop until the socket is writable again, and a full send ring makes
///   `reserve` throw `.wouldBlock`. A slow receiver stalls its sender, never drops.
/// - Failure detection is the kernel's: a peer's death aborts the connection at once,
///   and link supervision aborts it when the peer's node is lost.
public final class TIPCTransport: Transport {
    public let name = TIPCTransportModule.name
    public let capabilities: TransportCapabilities
    public let context: TransportContext
    public let configuration: TIPCConfiguration

    public init(context: TransportContext, configuration: TIPCConfiguration = TIPCConfiguration()) {
        self.context = context
        self.configuration = configuration
        capabilities = TransportCapabilities(
            reliable: true, ordered: true, maxMessageSize: Int(context.limits.maxMessage),
            maxFramePayload: TIPCConfiguration.maxFramePayload, zeroCopyReceive: true, zeroCopySend: true,
            remainingCopies:
                "kernel socket copy each way (plus one into the reassembly buffer for messages over one TIPC message)")
    }

    public func listen(
        at address: String, options: ConnectionOptions,
        handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener {
        let endpoint = try TIPCEndpoint(parsing: address, defaultType: configuration.serviceType)
        guard context.secret != nil || configuration.allowUnauthenticatedPeers else {
            throw TIPCTransportModule.secretRequired
        }
        let (fd, service) = try TIPCListener.bind(endpoint, backlog: configuration.listenBacklog)
        let listener = TIPCListener(
            fd: fd, service: service, thread: context.runtime.nextThread(), context: context,
            configuration: configuration, options: options, handlerFactory: handler)
        do {
            try listener.ioThread.submitAndWait { () throws(SystemError) in try listener.start() }
        } catch {
            TIPCSyscalls.close(fd)
            throw .system(error)
        }
        if context.secret == nil {
            context.logger.warning(
                "TIPC listening at \(service) without a cluster secret (allow-unauthenticated-peers): any process on any node of the TIPC cluster can connect"
            )
        }
        return listener
    }

    public func connect(
        to address: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection {
        try TIPCConnector.connect(
            to: address, context: context, configuration: configuration, options: options, handler: handler)
    }
}
