internal import CWeftVerbs
import Logging
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Weft over InfiniBand verbs (libibverbs and librdmacm; InfiniBand, RoCE and Soft-RoCE):
/// one reliable-connected queue pair per connection, set up by rdma_cm, driven by the IO threads.
///
/// - Send: reserve in a registered send slot, write in place, commit: one send work request
///   posted from the sender's thread (inline up to `max_inline_data`, selectively signalled).
///   The NIC reads the frame where it was written: no copy.
/// - Receive: frames land in registered buffers of the connection's shared receive queue and
///   are delivered in place; a buffer is reposted when its frame is released. No copy.
/// - Large frames (above `verbs.rendezvous-threshold` or one buffer): RDMA rendezvous. The
///   sender encodes the frame in its registered rendezvous region and sends `rendezvousReady`;
///   the receiver reads it with one RDMA READ into its own region and delivers it in place.
///   Messages larger than the region are fragmented (each fragment by rendezvous, one copy
///   into the reassembly buffer).
/// - Flow control: credits (`credit` frames) so that a send always finds a posted receive.
/// - Who may connect: with a cluster secret, peers prove they hold it (the handshake runs
///   over the queue pair); without one, the transport listens on loopback only.
/// - Memory is registered per device up front, in a pool of slabs (`VerbsMemoryPool`).
public final class VerbsTransport: Transport {
    public let name = VerbsTransportModule.name
    public let capabilities: TransportCapabilities
    public let context: TransportContext
    public let configuration: VerbsConfiguration
    let device: VerbsDevice

    public init(context: TransportContext, configuration: VerbsConfiguration = VerbsConfiguration()) throws(TransportError) {
        self.context = context
        self.configuration = configuration
        device = try VerbsDevice.open(configuration, memoryNode: context.runtime.placement.memoryNode)
        capabilities = TransportCapabilities(
            reliable: true, ordered: true, maxMessageSize: Int(context.limits.maxMessage),
            maxFramePayload: configuration.bufferBytes - FrameLayout.headerSize, zeroCopyReceive: true,
            zeroCopySend: true,
            remainingCopies:
                "none (the NIC reads and writes registered memory; large frames by RDMA READ into the receiver's registered region);"
                + " one into the reassembly buffer for messages larger than one rendezvous region")
        context.logger.debug("verbs transport on \(device.name) port \(device.port)")
    }

    /// The device in use (`rxe0`, `mlx5_0`).
    public var deviceName: String { device.name }

    public func listen(
        at address: String, options: ConnectionOptions,
        handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener {
        let endpoint = try VerbsEndpoint(parsing: address)
        var storage = try VerbsSyscalls.resolve(endpoint, passive: true)
        guard context.secret != nil || VerbsSyscalls.isLoopback(&storage) else { throw Self.secretRequired(endpoint) }
        let channel = try VerbsConnector.system { () throws(SystemError) in try VerbsSyscalls.createEventChannel() }
        let id: UnsafeMutablePointer<rdma_cm_id>
        do {
            id = try VerbsSyscalls.createID(on: channel)
            try VerbsSyscalls.bindAndListen(id, at: &storage, backlog: configuration.listenBacklog)
        } catch {
            VerbsSyscalls.destroy(channel)
            throw .system(SystemError("\(error.call) at \(endpoint)", errno: error.errno))
        }
        if let bound = id.pointee.verbs, bound != device.context {
            VerbsSyscalls.destroy(id)
            VerbsSyscalls.destroy(channel)
            throw .badAddress("\(endpoint) belongs to another RDMA device than \(device.name); choose it with --verbs-device")
        }
        let listener = VerbsListener(
            channel: channel, id: id, address: VerbsSyscalls.localAddress(id), thread: context.runtime.nextThread(),
            device: device, context: context, configuration: configuration, options: options, handlerFactory: handler)
        do {
            try listener.ioThread.submitAndWait { () throws(SystemError) in try listener.start() }
        } catch {
            VerbsSyscalls.destroy(id)
            VerbsSyscalls.destroy(channel)
            throw .system(error)
        }
        context.logger.debug("verbs listening at \(listener.address) on \(device.name)")
        return listener
    }

    public func connect(
        to address: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection {
        try VerbsConnector.connect(
            to: address, device: device, context: context, configuration: configuration, options: options,
            handler: handler)
    }

    /// The one sentence for listening beyond loopback without a secret.
    static func secretRequired(_ endpoint: VerbsEndpoint) -> TransportError {
        .unavailable(
            "refusing to listen on \(endpoint) without a cluster secret, because anyone who can reach it could connect:"
                + " give every node the same secret file with --secret-file FILE or WEFT_SECRET_FILE=FILE"
                + " (at least 16 random bytes, chmod 600).")
    }
}

/// How the registry knows the verbs transport.
public enum VerbsTransportModule {
    public static let name = "verbs"

    public static let descriptor = TransportDescriptor(
        name: name,
        summary: "InfiniBand verbs: RDMA over InfiniBand, RoCE or Soft-RoCE (libibverbs, librdmacm)",
        probe: { availability(devices: VerbsProbe.devices()) },
        make: { context, configuration throws(TransportError) -> any Transport in
            if case .unavailable(let reason) = availability(devices: VerbsProbe.devices()) {
                throw .unavailable(reason)
            }
            var context = context
            if context.secret == nil, let path = configuration.secretFile {
                do throws(ConfigurationError) {
                    context.secret = try ClusterSecret.load(path: path)
                } catch {
                    throw .unavailable(error.description)
                }
            }
            return try VerbsTransport(context: context, configuration: VerbsConfiguration(configuration))
        },
        device: { _, configuration in
            // The configured device, else the first one listed (the one `open` prefers when its port is active).
            if let wanted = configuration.verbsDevice { return .rdmaDevice(wanted) }
            if case .found(let names) = VerbsProbe.devices(), let first = names.first { return .rdmaDevice(first) }
            return nil
        })

    static func availability(devices: VerbsDevices) -> TransportAvailability {
        switch devices {
        case .none(let reason): return .unavailable(reason: reason)
        case .found: return .available
        }
    }
}
