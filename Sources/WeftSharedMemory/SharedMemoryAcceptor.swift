import Logging
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The accepting side's handshake for one peer, driven by readiness on the listener's
/// IO thread: hello (with the region's memfd and the peer's eventfd) → helloReply (with
/// ours) → auth → the connection starts on an IO thread of the runtime.
final class SharedMemoryAcceptor: IOSource {
    private let socket: Int32
    let peerPID: Int32
    /// When the listener drops this peer if the handshake is not done (its IO thread's clock).
    let deadline: UInt64
    /// The listener's `max-connections` place, handed to the connection or given back on failure.
    private var place: QuotaPlace?
    private let listenerName: String
    private let transport: SharedMemoryTransport
    private let options: ConnectionOptions
    private let handlerFactory: @Sendable (PeerInfo) -> any ConnectionHandler
    private let thread: IOThread
    private let onFinish: (SharedMemoryAcceptor) -> Void
    private var registration: IORegistration?
    private var handshake: AcceptorHandshake
    private var region: SharedMemoryRegion?
    private var cleanup = DescriptorCleanup()
    private var peerWake: Int32 = -1
    private var ownWake: Int32 = -1

    init(
        socket: Int32, peerPID: Int32, listenerName: String, transport: SharedMemoryTransport,
        options: ConnectionOptions, handlerFactory: @escaping @Sendable (PeerInfo) -> any ConnectionHandler,
        thread: IOThread, deadline: UInt64, place: consuming QuotaPlace,
        onFinish: @escaping (SharedMemoryAcceptor) -> Void
    ) {
        self.socket = socket
        self.deadline = deadline
        self.place = consume place
        self.peerPID = peerPID
        self.listenerName = listenerName
        self.transport = transport
        self.options = options
        self.handlerFactory = handlerFactory
        self.thread = thread
        self.onFinish = onFinish
        let context = transport.context
        handshake = AcceptorHandshake(node: context.node, secret: nil, maxFramePayload: Int(context.limits.maxFramePayload))
    }

    func start() throws(SystemError) {
        let registration = thread.register(self, pollsMemory: false)
        self.registration = registration
        try thread.watch(socket, events: [.readable, .peerHangup], for: registration, token: 0, pollWhileSpinning: false)
    }

    func descriptorReady(token: UInt32, events: UInt32) {
        do throws(TransportError) {
            let received: (bytes: [UInt8], fds: [Int32])?
            do { received = try SharedMemorySyscalls.receive(socket, capacity: SharedMemoryHandshakeMessage.maxSize) } catch {
                if error.errno == EAGAIN { return }
                throw .system(error)
            }
            guard let received else { throw .handshakeFailed("the peer closed during the handshake") }
            let message = try SharedMemoryHandshakeMessage.decode(received, limits: transport.context.limits)
            for fd in message.fds { cleanup.add(fd) }
            if region == nil {
                try receiveHello(message)
            } else {
                try receiveAuth(message)
            }
        } catch {
            transport.context.logger.warning("shm listener \(listenerName): rejected pid \(peerPID): \(error)")
            abort()
        }
    }

    private func receiveHello(_ message: (kind: MessageKind, payload: [UInt8], fds: [Int32])) throws(TransportError) {
        guard message.fds.count == 2 else { throw .handshakeFailed("hello carried \(message.fds.count) descriptors, expected 2") }
        let reply = try message.payload.withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try handshake.receiveHello(kind: message.kind, payload: bytes) }
        }.get()
        let region = try SharedMemoryRegion.adopt(fd: message.fds[0], ringBytes: transport.acceptedRingBytes)
        cleanup.closeNow(message.fds[0])
        region.setAcceptorMode(transport.context.runtime.progress)
        self.region = region
        peerWake = message.fds[1]
        do { ownWake = try SharedMemorySyscalls.eventFD() } catch { throw .system(error) }
        cleanup.add(ownWake)
        try SharedMemoryHandshakeMessage.send(reply, fds: [ownWake], on: socket)
    }

    private func receiveAuth(_ message: (kind: MessageKind, payload: [UInt8], fds: [Int32])) throws(TransportError) {
        guard message.fds.isEmpty else { throw .handshakeFailed("auth carried descriptors") }
        let outcome = try message.payload.withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try handshake.receiveAuth(kind: message.kind, payload: bytes) }
        }.get()
        let pidfd: Int32
        do { pidfd = try SharedMemorySyscalls.pidfd(peerPID) } catch { throw .system(error) }
        cleanup.add(pidfd)
        guard let region, let registration else { return }
        thread.unwatch(socket, pollWhileSpinning: false)
        thread.deregister(registration)
        self.registration = nil

        let context = transport.context
        let peer = PeerInfo(
            node: outcome.peerNode, address: "shm:\(listenerName)/pid:\(peerPID)", processID: peerPID,
            maxFramePayload: outcome.peerMaxFramePayload)
        let connectionThread = context.runtime.nextThread()
        let connection = SharedMemoryConnection(
            id: transport.makeID(), peer: peer, region: region, sendRing: 1,
            descriptors: .init(socket: socket, ownWake: ownWake, peerWake: peerWake, peerProcess: pidfd),
            thread: connectionThread, context: context, options: options, handler: handlerFactory(peer))
        connection.quotaPlace = place.take()
        cleanup.keepAll()
        let logger = context.logger
        let started = connectionThread.execute {
            do { try connection.start() } catch { logger.error("shm connection \(connection.id): \(error)") }
        }
        if !started { connection.discardIfNeverStarted() }
        onFinish(self)
    }

    /// Drops a peer whose handshake failed (or the listener closing under it).
    func abort() {
        if let registration {
            thread.unwatch(socket, pollWhileSpinning: false)
            thread.deregister(registration)
            self.registration = nil
            cleanup.closeAll()
            Glibc.close(socket)
            region?.unmap()
            place = nil
            onFinish(self)
        }
    }
}
