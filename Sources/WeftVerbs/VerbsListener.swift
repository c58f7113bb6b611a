internal import CWeftVerbs
import Logging
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A listening rdma_cm id on one IO thread. Each connect request gets its own queue pair,
/// chunk of registered memory and rdma_cm event channel (`rdma_migrate_id`), is accepted,
/// and becomes a `VerbsConnection` on the next IO thread, where the Weft handshake runs
/// over the queue pair: a slow or silent client is closed after `connectTimeout`.
public final class VerbsListener: TransportListener, IOSource, @unchecked Sendable {
    public let address: String
    let channel: UnsafeMutablePointer<rdma_event_channel>
    let id: UnsafeMutablePointer<rdma_cm_id>
    let ioThread: IOThread
    let device: VerbsDevice
    let context: TransportContext
    let configuration: VerbsConfiguration
    let options: ConnectionOptions
    let handlerFactory: @Sendable (PeerInfo) -> any ConnectionHandler
    /// At most `max-connections` connections, handshaking or open.
    let quota: ConnectionQuota
    private let closed = Atomic<Bool>(false)
    // IO thread.
    private var registration: IORegistration?

    init(
        channel: UnsafeMutablePointer<rdma_event_channel>, id: UnsafeMutablePointer<rdma_cm_id>, address: String,
        thread: IOThread, device: VerbsDevice, context: TransportContext, configuration: VerbsConfiguration,
        options: ConnectionOptions, handlerFactory: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) {
        self.channel = channel
        self.id = id
        self.address = address
        ioThread = thread
        self.device = device
        self.context = context
        self.configuration = configuration
        self.options = options
        self.handlerFactory = handlerFactory
        quota = ConnectionQuota(limit: context.maxConnections)
    }

    /// Registers and watches the event channel (on the IO thread).
    func start() throws(SystemError) {
        try VerbsSyscalls.setNonBlocking(channel.pointee.fd)
        let registration = ioThread.register(self, pollsMemory: false)
        do {
            try ioThread.watch(channel.pointee.fd, events: .readable, for: registration, token: 0, pollWhileSpinning: false)
        } catch {
            ioThread.deregister(registration)
            throw error
        }
        self.registration = registration
    }

    public func descriptorReady(token: UInt32, events: UInt32) {
        while registration != nil {
            let event: UnsafeMutablePointer<rdma_cm_event>?
            do {
                event = try VerbsSyscalls.nextEvent(channel)
            } catch {
                context.logger.error("verbs listener \(address) cannot read its rdma_cm events: \(error)")
                return
            }
            guard let event else { return }
            guard event.pointee.event == RDMA_CM_EVENT_CONNECT_REQUEST, let child = event.pointee.id else {
                VerbsSyscalls.acknowledge(event)
                continue
            }
            let data = VerbsSyscalls.privateData(of: event)
            VerbsSyscalls.acknowledge(event)
            admit(child, privateData: data)
        }
    }

    /// Sets up, accepts and hands over one connect request; rejects it when anything fails.
    private func admit(_ child: UnsafeMutablePointer<rdma_cm_id>, privateData: [UInt8]) {
        let from = VerbsSyscalls.peerAddress(child)
        // At the cap, refused before anything (queue pair, registered memory) is set up for it.
        guard let place = QuotaPlace(quota) else {
            if let line = quota.refusalLog(listener: "verbs \(address)", peer: from, now: VerbsClock.now) {
                context.logger.warning("\(line)")
            }
            VerbsSyscalls.reject(child, reason: VerbsRefusal.encode(quota.refusalReason))
            VerbsSyscalls.destroy(child)
            return
        }
        guard let peerData = VerbsPrivateData.decode(privateData) else {
            context.logger.warning("verbs listener \(address): rejecting \(from): not a Weft verbs peer")
            VerbsSyscalls.reject(child)
            VerbsSyscalls.destroy(child)
            return
        }
        guard child.pointee.verbs == device.context else {
            context.logger.warning(
                "verbs listener \(address): rejecting \(from): it arrived on another RDMA device than \(device.name)")
            VerbsSyscalls.reject(child)
            VerbsSyscalls.destroy(child)
            return
        }
        let channel: UnsafeMutablePointer<rdma_event_channel>
        do {
            channel = try VerbsSyscalls.createEventChannel()
        } catch {
            context.logger.warning("verbs listener \(address): rejecting \(from): \(error)")
            VerbsSyscalls.reject(child)
            VerbsSyscalls.destroy(child)
            return
        }
        let connection: VerbsConnection
        do {
            // The connection's own events (disconnect) go to its own channel, on its own IO thread.
            try VerbsConnector.system { () throws(SystemError) in try VerbsSyscalls.migrate(child, to: channel) }
            connection = try VerbsConnection.make(
                id: child, channel: channel, device: device,
                peer: PeerInfo(node: NodeIdentity(high: 0, low: 0), address: from, maxFramePayload: 0),
                peerCredits: Int(peerData.receiveCredits), phase: .handshaking, thread: context.runtime.nextThread(),
                context: context, configuration: configuration, options: options)
        } catch {
            context.logger.warning("verbs listener \(address): rejecting \(from): \(error)")
            VerbsSyscalls.reject(child)
            VerbsSyscalls.destroy(child)
            VerbsSyscalls.destroy(channel)
            return
        }
        do {
            try connection.postAllReceives()
        } catch {
            context.logger.warning("verbs listener \(address): rejecting \(from): \(error)")
            VerbsSyscalls.reject(child)
            return
        }
        connection.peerRendezvousFrameBytes = Int(peerData.rendezvousBytes)
        connection.acceptor = AcceptorHandshake(
            node: context.node, secret: context.secret, maxFramePayload: connection.ownMaxFramePayload)
        connection.handlerFactory = handlerFactory
        connection.quotaPlace = consume place
        do {
            try VerbsSyscalls.connectOrAccept(
                child, privateData: connection.ownPrivateData, readsInFlight: device.readsInFlight, accepting: true)
        } catch {
            context.logger.warning("verbs listener \(address): cannot accept \(from): \(error)")
            return
        }
        let logger = context.logger
        connection.ioThread.execute {
            do {
                try connection.start()
            } catch {
                logger.warning("verbs: dropping a connection from \(from): \(error)")
            }
        }
    }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        ioThread.submitAndWait { [self] in
            if let registration {
                ioThread.unwatch(channel.pointee.fd, pollWhileSpinning: false)
                ioThread.deregister(registration)
                self.registration = nil
            }
            VerbsSyscalls.destroy(id)
            VerbsSyscalls.destroy(channel)
        }
    }
}
