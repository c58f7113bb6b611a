import Logging
import WeftCore

/// Weft over TCP (IPv4 and IPv6): frames back to back on the byte stream, each padded
/// to 8 bytes (docs/protocol.md), driven by the IO threads with edge-triggered epoll.
///
/// - Send: reserve in the connection's send ring, write in place, commit; frames from
///   many messages leave in one `writev`. The one remaining copy is the kernel's.
/// - Receive: frames are parsed and delivered in place in the receive buffer; the
///   connection delivers the next one after the previous is released. The one remaining
///   copy is the kernel's (fragmented messages add one, into the reassembly buffer).
/// - Who may connect: with a cluster secret, peers prove they hold it (HMAC challenge and
///   response in the handshake); without one, the transport listens on loopback only and
///   admits only processes of its own user, found in the kernel's socket table
///   (`TCPPeerUser`), unless `allow-unauthenticated-peers` opens it to every local user.
/// - Flow control is TCP's own window: `credit` frames are ignored; a full send ring
///   makes `reserve` throw `.wouldBlock`.
public final class TCPTransport: Transport {
    public let name = "tcp"
    public let capabilities: TransportCapabilities
    public let context: TransportContext
    public let configuration: TCPConfiguration

    public init(context: TransportContext, configuration: TCPConfiguration = TCPConfiguration()) {
        self.context = context
        self.configuration = configuration
        capabilities = TransportCapabilities(
            reliable: true, ordered: true, maxMessageSize: Int(context.limits.maxMessage),
            maxFramePayload: Int(context.limits.maxFramePayload), zeroCopyReceive: true, zeroCopySend: true,
            remainingCopies: "kernel socket copy each way (plus one into the reassembly buffer for fragmented messages)")
    }

    public func listen(
        at address: String, options: ConnectionOptions,
        handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener {
        let endpoint = try TCPEndpoint(parsing: address)
        let resolved = try TCPSocket.resolve(endpoint, passive: true)[0]
        guard context.secret != nil || resolved.isLoopback else { throw Self.secretRequired(endpoint) }
        let fd: Int32
        let bound: TCPAddress
        do {
            fd = try TCPSocket.open(family: resolved.family)
        } catch {
            throw .system(error)
        }
        do {
            try TCPSocket.setReuseAddress(fd)
            try TCPSocket.bindAndListen(fd, at: resolved, backlog: configuration.listenBacklog)
            bound = try TCPSocket.localAddress(fd)
        } catch {
            TCPSocket.close(fd)
            throw .system(SystemError("\(error.call) at \(resolved)", errno: error.errno))
        }
        let listener = TCPListener(
            fd: fd, address: bound.description, thread: context.runtime.nextThread(), context: context,
            configuration: configuration, options: options, handlerFactory: handler)
        do {
            try listener.ioThread.submitAndWait { () throws(SystemError) in try listener.start() }
        } catch {
            TCPSocket.close(fd)
            throw .system(error)
        }
        context.logger.debug("TCP listening at \(bound.description)\(Self.admissionNote(context, configuration))")
        return listener
    }

    public func connect(
        to address: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection {
        try TCPConnector.connect(
            to: address, context: context, configuration: configuration, options: options, handler: handler)
    }

    static func admissionNote(_ context: TransportContext, _ configuration: TCPConfiguration) -> String {
        guard context.secret == nil else { return "" }
        return configuration.allowUnauthenticatedPeers
            ? " (loopback, no secret, every local user admitted: allow-unauthenticated-peers)"
            : " (loopback, no secret, this user's processes only)"
    }

    /// The one sentence for listening beyond loopback without a secret.
    static func secretRequired(_ endpoint: TCPEndpoint) -> TransportError {
        .unavailable(
            "refusing to listen on \(endpoint) without a cluster secret, because anyone who can reach it could connect:"
                + " give every node the same secret file with --secret-file FILE or WEFT_SECRET_FILE=FILE"
                + " (at least 16 random bytes, chmod 600), or listen on loopback (127.0.0.1, [::1] or localhost).")
    }
}

/// How the registry knows the TCP transport.
public enum TCPTransportModule {
    public static let descriptor = TransportDescriptor(
        name: "tcp",
        summary: "TCP over IPv4 and IPv6: any network; authenticated with a cluster secret, loopback-only without one",
        probe: { .available },
        make: { context, configuration throws(TransportError) in
            var context = context
            if context.secret == nil, let path = configuration.secretFile {
                do throws(ConfigurationError) {
                    context.secret = try ClusterSecret.load(path: path)
                } catch {
                    throw .unavailable(error.description)
                }
            }
            return TCPTransport(context: context, configuration: TCPConfiguration(configuration))
        },
        device: { address, _ in device(for: address) })
}
