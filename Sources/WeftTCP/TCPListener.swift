internal import CWeftTCP
import Logging
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket on one IO thread. Each accepted socket becomes a `TCPConnection`
/// on the next IO thread, where the handshake runs as a non-blocking state machine: a
/// slow or silent client holds up nobody and is closed after `connectTimeout`.
public final class TCPListener: TransportListener, IOSource, @unchecked Sendable {
    public let address: String
    let fd: Int32
    let ioThread: IOThread
    let context: TransportContext
    let configuration: TCPConfiguration
    let options: ConnectionOptions
    let handlerFactory: @Sendable (PeerInfo) -> any ConnectionHandler
    /// `max-connections`: accepted connections hold a place until they end.
    let quota: ConnectionQuota
    private let closed = Atomic<Bool>(false)
    // IO thread.
    private var registration: IORegistration?

    init(
        fd: Int32, address: String, thread: IOThread, context: TransportContext, configuration: TCPConfiguration,
        options: ConnectionOptions, handlerFactory: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) {
        self.fd = fd
        self.address = address
        self.ioThread = thread
        self.context = context
        self.configuration = configuration
        self.options = options
        self.handlerFactory = handlerFactory
        quota = ConnectionQuota(limit: context.maxConnections)
    }

    /// Registers and starts accepting (on the IO thread). A spinning thread looks at the
    /// listening socket on its every-1024th-turn epoll pass, not every turn: accepting may
    /// wait a fraction of a millisecond, and the turns of its connections stay free of
    /// `epoll_wait`.
    func start() throws(SystemError) {
        let registration = ioThread.register(self, pollsMemory: false)
        do {
            try ioThread.watch(
                fd, events: IOEvents(rawValue: IOEvents.readable.rawValue | CWEFT_TCP_EPOLLET), for: registration,
                token: 0, pollWhileSpinning: false)
        } catch {
            ioThread.deregister(registration)
            throw error
        }
        self.registration = registration
    }

    public func descriptorReady(token: UInt32, events: UInt32) {
        guard registration != nil else { return }
        // Edge-triggered: take every pending connection now.
        while true {
            let accepted: (fd: Int32, peer: TCPAddress)?
            do {
                accepted = try TCPSocket.accept(fd)
            } catch {
                if error.errno == ECONNABORTED || error.errno == EPROTO { continue }
                context.logger.error(
                    "TCP listener \(address) cannot accept: \(error); waiting connections stay queued until the next one arrives"
                )
                return
            }
            guard let accepted else { return }
            admit(accepted.fd, from: accepted.peer)
        }
    }

    private func admit(_ socket: Int32, from peerAddress: TCPAddress) {
        guard let place = QuotaPlace(quota) else {
            refuse(socket, from: peerAddress)
            return
        }
        do {
            try TCPSocket.setNoDelay(socket)
        } catch {
            context.logger.warning("TCP listener \(address): dropping a connection from \(peerAddress): \(error)")
            TCPSocket.close(socket)
            return
        }
        let connection = TCPConnection(
            fd: socket,
            peer: PeerInfo(node: NodeIdentity(high: 0, low: 0), address: peerAddress.description, maxFramePayload: 0),
            phase: .handshaking, thread: context.runtime.nextThread(), context: context, configuration: configuration,
            options: options)
        connection.acceptor = AcceptorHandshake(
            node: context.node, secret: context.secret, maxFramePayload: Int(context.limits.maxFramePayload))
        connection.handlerFactory = handlerFactory
        connection.quotaPlace = consume place
        if context.secret == nil && !configuration.allowUnauthenticatedPeers {
            connection.requiredPeerUID = geteuid()
            connection.peerSocketAddress = peerAddress
        }
        let logger = context.logger
        connection.ioThread.execute {
            do {
                try connection.start()
            } catch {
                logger.warning("TCP: dropping a connection from \(peerAddress): \(error)")
            }
        }
    }

    /// At the cap: the peer gets a close frame saying why (its connect fails with that
    /// sentence), then the end of the stream; nothing is allocated for it.
    private func refuse(_ socket: Int32, from peerAddress: TCPAddress) {
        if let line = quota.refusalLog(listener: "TCP \(address)", peer: peerAddress.description, now: TCPClock.now) {
            context.logger.warning("\(line)")
        }
        let reason = Array(quota.refusalReason.utf8)
        var frame = [UInt8](repeating: 0, count: FrameHeader.paddedFrameSize(payload: reason.count))
        frame.withUnsafeMutableBytes { raw in
            FrameHeader(kind: .close, payloadLength: UInt32(reason.count)).encode(to: raw.baseAddress!)
            (raw.baseAddress! + FrameLayout.headerSize).copyMemory(from: reason, byteCount: reason.count)
            // A fresh socket's buffer is empty: the frame fits; if not, the peer still sees the end.
            _ = try? TCPSocket.send(socket, raw.baseAddress!, raw.count, nil, 0)
        }
        TCPSocket.shutdownWrite(socket)
        // Read what the peer sent already (its hello), so the close does not reset the
        // connection before the peer has read why.
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            for _ in 0..<16 {
                guard let count = try? TCPSocket.receive(socket, into: raw.baseAddress!, count: raw.count), count > 0
                else { break }
            }
        }
        TCPSocket.close(socket)
    }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let closedOnThread = ioThread.submitAndWait { [self] in
            if let registration {
                ioThread.unwatch(fd, pollWhileSpinning: false)
                ioThread.deregister(registration)
                self.registration = nil
            }
            TCPSocket.close(fd)
        }
        // The IO thread has shut down: nothing watches the socket any more.
        if !closedOnThread { TCPSocket.close(fd) }
    }
}
