internal import CWeftVerbs
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The connecting side, on the caller's thread within `connectTimeout`: resolve the address
/// and route with rdma_cm, create the queue pair, connect, run hello → helloReply → auth over
/// the queue pair, then hand the connection to an IO thread.
enum VerbsConnector {
    static func connect(
        to text: String, device: VerbsDevice, context: TransportContext, configuration: VerbsConfiguration,
        options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> VerbsConnection {
        let endpoint = try VerbsEndpoint(parsing: text)
        var address = try VerbsSyscalls.resolve(endpoint, passive: false)
        let deadline = VerbsClock.now + VerbsClock.nanoseconds(context.connectTimeout)
        let timeout = Int32(clamping: VerbsClock.nanoseconds(context.connectTimeout) / 1_000_000)
        let channel = try system { () throws(SystemError) in try VerbsSyscalls.createEventChannel() }
        let id: UnsafeMutablePointer<rdma_cm_id>
        do {
            id = try VerbsSyscalls.createID(on: channel)
        } catch {
            VerbsSyscalls.destroy(channel)
            throw .system(error)
        }
        var owned = true
        defer {
            if owned {
                VerbsSyscalls.destroy(id)
                VerbsSyscalls.destroy(channel)
            }
        }
        try system { () throws(SystemError) in try VerbsSyscalls.resolveAddress(id, to: &address, timeoutMilliseconds: timeout) }
        try expect(RDMA_CM_EVENT_ADDR_RESOLVED, on: channel, until: deadline, what: "resolving \(endpoint)", peer: endpoint)
        guard id.pointee.verbs == device.context else {
            throw .badAddress(
                "\(endpoint) is not reached through \(device.name): use the address of an interface of \(device.name)"
                    + " or choose its device with --verbs-device")
        }
        try system { () throws(SystemError) in try VerbsSyscalls.resolveRoute(id, timeoutMilliseconds: timeout) }
        try expect(
            RDMA_CM_EVENT_ROUTE_RESOLVED, on: channel, until: deadline, what: "resolving the route to \(endpoint)", peer: endpoint
        )
        let connection = try VerbsConnection.make(
            id: id, channel: channel, device: device,
            peer: PeerInfo(node: NodeIdentity(high: 0, low: 0), address: endpoint.description, maxFramePayload: 0),
            peerCredits: 0, phase: .handshaking, thread: context.runtime.nextThread(), context: context,
            configuration: configuration, options: options)
        owned = false
        try system { () throws(SystemError) in try connection.postAllReceives() }
        try system { () throws(SystemError) in
            try VerbsSyscalls.connectOrAccept(
                id, privateData: connection.ownPrivateData, readsInFlight: device.readsInFlight, accepting: false)
        }
        let accepted = try expect(
            RDMA_CM_EVENT_ESTABLISHED, on: channel, until: deadline, what: "connecting to \(endpoint)", peer: endpoint)
        guard let peerData = VerbsPrivateData.decode(accepted) else {
            throw .handshakeFailed("the peer at \(endpoint) accepted without Weft's connection data (not a Weft verbs listener)")
        }
        connection.credits.store(Int(peerData.receiveCredits), ordering: .releasing)
        connection.peerRendezvousFrameBytes = Int(peerData.rendezvousBytes)
        let handshake = ConnectorHandshake(
            node: context.node, secret: context.secret, maxFramePayload: connection.ownMaxFramePayload)
        try connection.connectorHandshake(handshake, until: deadline)
        connection.handler = handler
        do {
            try connection.ioThread.submitAndWait { () throws(SystemError) in try connection.start() }
        } catch {
            throw .system(error)
        }
        return connection
    }

    /// Waits for one rdma_cm event of `type` on the (blocking) channel; returns its private data.
    @discardableResult
    static func expect(
        _ type: rdma_cm_event_type, on channel: UnsafeMutablePointer<rdma_event_channel>, until deadline: UInt64,
        what: String, peer: VerbsEndpoint
    ) throws(TransportError) -> [UInt8] {
        guard try system({ () throws(SystemError) in try VerbsSyscalls.waitReadable(channel.pointee.fd, until: deadline) }) else {
            throw .timedOut("\(what) took longer than the connect time-out")
        }
        var event: UnsafeMutablePointer<rdma_cm_event>?
        guard rdma_get_cm_event(channel, &event) == 0, let event else {
            throw .system(SystemError("rdma_get_cm_event", errno: errno))
        }
        let got = event.pointee.event
        let status = event.pointee.status
        let data = VerbsSyscalls.privateData(of: event)
        VerbsSyscalls.acknowledge(event)
        guard got == type else {
            switch got {
            case RDMA_CM_EVENT_REJECTED:
                if let reason = VerbsRefusal.decode(data) {
                    throw .handshakeFailed("the verbs listener at \(peer) refused the connection: \(reason)")
                }
                throw .handshakeFailed(
                    "the peer at \(peer) rejected the connection (is a Weft verbs listener there, on the same device kind?)")
            case RDMA_CM_EVENT_ADDR_ERROR:
                throw .badAddress(
                    "\(peer) cannot be reached through any RDMA device (rdma_cm: address error \(status)):"
                        + " use the IP of an RDMA device's interface")
            case RDMA_CM_EVENT_UNREACHABLE, RDMA_CM_EVENT_CONNECT_ERROR, RDMA_CM_EVENT_ROUTE_ERROR:
                throw .peerLost(
                    "no answer from \(peer) (\(VerbsSyscalls.name(of: got)), status \(status)): nothing listens there or the link is down"
                )
            default:
                throw .handshakeFailed("\(what): rdma_cm reported \(VerbsSyscalls.name(of: got)) (status \(status))")
            }
        }
        return data
    }

    static func system<T>(_ body: () throws(SystemError) -> T) throws(TransportError) -> T {
        do { return try body() } catch { throw .system(error) }
    }
}

extension VerbsConnection {
    /// Builds a connection on `id` (address resolved) whose rdma_cm events arrive on `channel`:
    /// a chunk from the pool and the queue pair. On failure `id` and `channel` stay the
    /// caller's; on success the connection owns them (and frees them when it goes).
    static func make(
        id: UnsafeMutablePointer<rdma_cm_id>, channel: UnsafeMutablePointer<rdma_event_channel>, device: VerbsDevice,
        peer: PeerInfo, peerCredits: Int, phase: Phase, thread: IOThread, context: TransportContext,
        configuration: VerbsConfiguration, options: ConnectionOptions
    ) throws(TransportError) -> VerbsConnection {
        let chunk = try device.pool.take()
        let queuePair: VerbsQueuePair
        do {
            queuePair = try VerbsQueuePair.create(id: id, eventChannel: channel, device: device, configuration: configuration)
        } catch {
            device.pool.give(chunk)
            throw .system(error)
        }
        return VerbsConnection(
            queuePair: queuePair, device: device, chunk: chunk, peer: peer, peerCredits: peerCredits, phase: phase,
            thread: thread, context: context, configuration: configuration, options: options)
    }

    /// This side's rdma_cm private data: its receive credits, buffer size and rendezvous region.
    var ownPrivateData: [UInt8] {
        VerbsPrivateData(
            receiveCredits: UInt32(receiveBufferCount - VerbsConfiguration.controlReceives), bufferBytes: UInt32(bufferBytes),
            rendezvousBytes: UInt32(rendezvousFrameBytes)
        ).encoded()
    }
}
