import Logging
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A listening TIPC socket that publishes one service name on one IO thread. Each accepted
/// socket becomes a `TIPCConnection` on the next IO thread, where the handshake runs as a
/// non-blocking state machine: a slow or silent client is closed after `connectTimeout`.
///
/// A TIPC connect completes only when the listener accepts, so accepting never waits for
/// anything else.
public final class TIPCListener: TransportListener, IOSource, @unchecked Sendable {
    public let address: String
    public let service: TIPCServiceAddress
    let fd: Int32
    let ioThread: IOThread
    let context: TransportContext
    let configuration: TIPCConfiguration
    let options: ConnectionOptions
    let handlerFactory: @Sendable (PeerInfo) -> any ConnectionHandler
    /// `max-connections`: accepted connections hold a place until they end.
    let quota: ConnectionQuota
    private let closed = Atomic<Bool>(false)
    private var registration: IORegistration?

    init(
        fd: Int32, service: TIPCServiceAddress, thread: IOThread, context: TransportContext,
        configuration: TIPCConfiguration, options: ConnectionOptions,
        handlerFactory: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) {
        self.fd = fd
        self.service = service
        address = service.description
        ioThread = thread
        self.context = context
        self.configuration = configuration
        self.options = options
        self.handlerFactory = handlerFactory
        quota = ConnectionQuota(limit: context.maxConnections)
    }

    /// Publishes `endpoint` (or a free instance of its type) and listens. The name must not
    /// be published by anyone else: TIPC would share it out between the publishers.
    static func bind(
        _ endpoint: TIPCEndpoint, backlog: Int32
    ) throws(TransportError) -> (fd: Int32, service: TIPCServiceAddress) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<16 {
            let service = TIPCServiceAddress(
                type: endpoint.type, instance: endpoint.instance ?? UInt32.random(in: 1...0x7fff_ffff, using: &generator))
            let taken: Bool
            do { taken = try !TIPCServiceDirectory.publishers(of: service).isEmpty } catch { throw .system(error) }
            if taken {
                if endpoint.instance != nil { throw inUse(service) }
                continue
            }
            let fd: Int32
            do { fd = try TIPCSyscalls.openSequentialPacket() } catch { throw .system(error) }
            do {
                try TIPCSyscalls.bindAndListen(fd, at: service, backlog: backlog)
                // Two listeners may have raced for the name: only a sole publisher keeps it.
                let own = TIPCSyscalls.ownPort(fd)
                let publishers = try TIPCServiceDirectory.publishers(of: service)
                if publishers.count == 1 && (own == nil || publishers[0] == own) { return (fd, service) }
            } catch {
                TIPCSyscalls.close(fd)
                throw .system(error)
            }
            TIPCSyscalls.close(fd)
            if endpoint.instance != nil { throw inUse(service) }
        }
        throw .unavailable("no free instance of TIPC service type \(endpoint.type) after 16 tries")
    }

    static func inUse(_ service: TIPCServiceAddress) -> TransportError {
        .badAddress(
            "the TIPC service \(service) is already published in the cluster (by another Weft listener or program): choose another instance, or * for a free one"
        )
    }

    /// Registers and starts accepting (on the IO thread).
    func start() throws(SystemError) {
        let registration = ioThread.register(self, pollsMemory: false)
        do {
            try ioThread.watch(
                fd, events: IOEvents(rawValue: IOEvents.readable.rawValue | TIPCSyscalls.edgeTriggered),
                for: registration, token: 0, pollWhileSpinning: true)
        } catch {
            ioThread.deregister(registration)
            throw error
        }
        self.registration = registration
    }

    public func descriptorReady(token: UInt32, events: UInt32) {
        guard registration != nil else { return }
        while true {
            let accepted: (fd: Int32, peer: TIPCPort)?
            do {
                accepted = try TIPCSyscalls.accept(fd)
            } catch {
                if error.errno == ECONNABORTED || error.errno == EPROTO { continue }
                context.logger.error(
                    "TIPC listener \(address) cannot accept: \(error); waiting connections stay queued until the next one arrives"
                )
                return
            }
            guard let accepted else { return }
            admit(accepted.fd, from: accepted.peer)
        }
    }

    private func admit(_ socket: Int32, from port: TIPCPort) {
        guard let place = QuotaPlace(quota) else {
            refuse(socket, from: port)
            return
        }
        let connection = TIPCConnection(
            fd: socket, peer: PeerInfo(node: NodeIdentity(high: 0, low: 0), address: "tipc \(port)", maxFramePayload: 0),
            phase: .handshaking, thread: context.runtime.nextThread(), context: context, configuration: configuration,
            options: options)
        connection.acceptor = AcceptorHandshake(
            node: context.node, secret: context.secret, maxFramePayload: TIPCConfiguration.maxFramePayload)
        connection.handlerFactory = handlerFactory
        connection.quotaPlace = consume place
        let logger = context.logger
        connection.ioThread.execute {
            do {
                try connection.start()
            } catch {
                logger.warning("TIPC: dropping a connection from \(port): \(error)")
            }
        }
    }

    /// At the cap: the peer gets a close frame saying why (its connect fails with that
    /// sentence); nothing is allocated for it.
    private func refuse(_ socket: Int32, from port: TIPCPort) {
        if let line = quota.refusalLog(listener: "TIPC \(address)", peer: "\(port)", now: TIPCClock.now) {
            context.logger.warning("\(line)")
        }
        let reason = Array(quota.refusalReason.utf8)
        var frame = [UInt8](repeating: 0, count: FrameLayout.headerSize + reason.count)
        frame.withUnsafeMutableBytes { raw in
            FrameHeader(kind: .close, payloadLength: UInt32(reason.count)).encode(to: raw.baseAddress!)
            (raw.baseAddress! + FrameLayout.headerSize).copyMemory(from: reason, byteCount: reason.count)
            var base: UnsafeMutableRawPointer? = raw.baseAddress
            var length = UInt32(raw.count)
            _ = try? TIPCSyscalls.sendBatch(socket, bases: &base, lengths: &length, count: 1)
        }
        TIPCSyscalls.close(socket)
    }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        ioThread.submitAndWait { [self] in
            if let registration {
                ioThread.unwatch(fd, pollWhileSpinning: true)
                ioThread.deregister(registration)
                self.registration = nil
            }
            TIPCSyscalls.close(fd)
        }
    }
}
