import Logging
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Accepts setup connections on an abstract Unix socket, on its IO thread, without blocking:
/// each new peer goes through `SharedMemoryAcceptor` until its connection is established.
///
/// Bounds: at most `max-connections` connections (handshaking or open) and
/// `maxPendingHandshakes` handshakes at once; a peer that has not completed its handshake
/// within `connect-timeout-ms` is dropped (the listener ticks while handshakes are pending).
final class SharedMemoryListener: TransportListener, IOSource, @unchecked Sendable {
    let address: String
    let ioThread: IOThread
    private let socket: Int32
    private let transport: SharedMemoryTransport
    private let options: ConnectionOptions
    private let handlerFactory: @Sendable (PeerInfo) -> any ConnectionHandler
    private(set) var registration: IORegistration?
    private var pending: [ObjectIdentifier: SharedMemoryAcceptor] = [:]
    /// Refused connectors' sockets, open until they hang up (see `keepUntilHangup`).
    var refused: [Int32] = []
    private let quota: ConnectionQuota
    private let handshakeTimeout: UInt64

    /// Handshakes in progress at once, whatever `max-connections` allows: each may map a region.
    static let maxPendingHandshakes = 64

    init(
        name: String, socket: Int32, transport: SharedMemoryTransport, options: ConnectionOptions,
        handlerFactory: @escaping @Sendable (PeerInfo) -> any ConnectionHandler, thread: IOThread
    ) {
        address = name
        self.socket = socket
        self.transport = transport
        self.options = options
        self.handlerFactory = handlerFactory
        ioThread = thread
        quota = ConnectionQuota(limit: transport.context.maxConnections)
        handshakeTimeout = UInt64(transport.context.connectTimeout.wholeNanoseconds)
    }

    func start() throws(SystemError) {
        let registration = ioThread.register(self, pollsMemory: false)
        self.registration = registration
        try ioThread.watch(socket, events: .readable, for: registration, token: 0, pollWhileSpinning: false)
    }

    func descriptorReady(token: UInt32, events: UInt32) {
        if token != 0 {
            refusedSocketReady(token: token, events: events)
            return
        }
        while registration != nil {
            let peerSocket: Int32?
            do { peerSocket = try SharedMemorySyscalls.accept(socket) } catch {
                transport.context.logger.warning("shm listener \(address): \(error)")
                return
            }
            guard let peerSocket else { return }
            admit(peerSocket)
        }
    }

    /// Only processes of this user may connect.
    private func admit(_ peerSocket: Int32) {
        let logger = transport.context.logger
        guard let credentials = try? SharedMemorySyscalls.peerCredentials(peerSocket) else {
            Glibc.close(peerSocket)
            return
        }
        guard credentials.uid == geteuid() else {
            logger.warning(
                "shm listener \(address): refused pid \(credentials.pid) of uid \(credentials.uid): only this user (uid \(geteuid())) may connect"
            )
            Glibc.close(peerSocket)
            return
        }
        guard pending.count < Self.maxPendingHandshakes else {
            let busy = "\(Self.maxPendingHandshakes) handshakes are already in progress"
            logger.warning("shm listener \(address): refused pid \(credentials.pid): \(busy)")
            Glibc.close(peerSocket)
            return
        }
        let now = ioThread.refreshClock()
        guard let place = QuotaPlace(quota) else {
            if let line = quota.refusalLog(listener: "shm \(address)", peer: "pid \(credentials.pid)", now: now) {
                logger.warning("\(line)")
            }
            // Take the hello already sent (closing its descriptors): closing a socket with
            // unread messages resets the connection before the connector could read why.
            while let message = try? SharedMemorySyscalls.receive(peerSocket, capacity: SharedMemoryHandshakeMessage.maxSize) {
                SharedMemoryHandshakeMessage.closeAll(message.fds)
            }
            // The connector reads why in place of its helloReply (a close message).
            try? SharedMemoryHandshakeMessage.send(
                HandshakeFrame(kind: .close, payload: Array(quota.refusalReason.utf8.prefix(96))), fds: [],
                on: peerSocket)
            keepUntilHangup(peerSocket)
            return
        }
        let acceptor = SharedMemoryAcceptor(
            socket: peerSocket, peerPID: credentials.pid, listenerName: address, transport: transport,
            options: options, handlerFactory: handlerFactory, thread: ioThread, deadline: now &+ handshakeTimeout,
            place: place
        ) { [weak self] finished in
            self?.finished(finished)
        }
        do {
            try acceptor.start()
            pending[ObjectIdentifier(acceptor)] = acceptor
            if pending.count == 1, let registration {
                let period = max(5, min(250, handshakeTimeout / 10_000_000))
                ioThread.startTicking(registration, every: .milliseconds(Int64(period)))
            }
        } catch {
            logger.warning("shm listener \(address): \(error)")
            Glibc.close(peerSocket)
        }
    }

    private func finished(_ acceptor: SharedMemoryAcceptor) {
        pending[ObjectIdentifier(acceptor)] = nil
        if pending.isEmpty, let registration { ioThread.stopTicking(registration) }
    }

    /// Drops peers whose handshake outlived `connect-timeout-ms` (they hold a place and maybe a mapping).
    func tick(now: UInt64) {
        for acceptor in pending.values where now >= acceptor.deadline {
            let why = "no handshake within \(transport.context.connectTimeout)"
            transport.context.logger.warning("shm listener \(address): dropped pid \(acceptor.peerPID): \(why)")
            acceptor.abort()
        }
    }

    func close() {
        ioThread.execute { [self] in
            guard let registration else { return }
            for refusedSocket in refused { letGoOfRefused(refusedSocket) }
            self.registration = nil
            ioThread.unwatch(socket, pollWhileSpinning: false)
            ioThread.deregister(registration)
            Glibc.close(socket)
            for acceptor in pending.values { acceptor.abort() }
            pending.removeAll()
        }
    }
}
