import Logging
import WeftCore
#if canImport(Glibc)
import Glibc
#endif

/// Accepts setup connections on an abstract Unix socket, on its IO thread, without blocking:
/// each new peer goes through `SharedMemoryAcceptor` until its connection is established.
final class SharedMemoryListener: TransportListener, IOSource, @unchecked Sendable {
    let address: String
    let ioThread: IOThread
    private let socket: Int32
    private let transport: SharedMemoryTransport
    private let options: ConnectionOptions
    private let handlerFactory: @Sendable (PeerInfo) -> any ConnectionHandler
    private var registration: IORegistration?
    private var pending: [ObjectIdentifier: SharedMemoryAcceptor] = [:]

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
    }

    func start() throws(SystemError) {
        let registration = ioThread.register(self, pollsMemory: false)
        self.registration = registration
        try ioThread.watch(socket, events: .readable, for: registration, token: 0, pollWhileSpinning: false)
    }

    func descriptorReady(token: UInt32, events: UInt32) {
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
            logger.warning("shm listener \(address): refused pid \(credentials.pid) of uid \(credentials.uid): only this user (uid \(geteuid())) may connect")
            Glibc.close(peerSocket)
            return
        }
        let acceptor = SharedMemoryAcceptor(
            socket: peerSocket, peerPID: credentials.pid, listenerName: address, transport: transport,
            options: options, handlerFactory: handlerFactory, thread: ioThread
        ) { [weak self] finished in
            self?.pending[ObjectIdentifier(finished)] = nil
        }
        do {
            try acceptor.start()
            pending[ObjectIdentifier(acceptor)] = acceptor
        } catch {
            logger.warning("shm listener \(address): \(error)")
            Glibc.close(peerSocket)
        }
    }

    func close() {
        ioThread.execute { [self] in
            guard let registration else { return }
            self.registration = nil
            ioThread.unwatch(socket, pollWhileSpinning: false)
            ioThread.deregister(registration)
            Glibc.close(socket)
            for acceptor in pending.values { acceptor.abort() }
            pending.removeAll()
        }
    }
}
