@_exported import Logging
@_exported import WeftCore
import WeftNUMA
import WeftTransports

/// One process's Weft node: the configured transport, its IO threads placed near the
/// device it uses, the frame and reassembly limits, liveness and connection bounds, and a
/// logger at the configured level. The one entry point a program needs:
///
/// ```swift
/// let node = try await WeftNode.start(flags: ["transport": "tcp"])
/// defer { node.shutdown() }
/// let listener = try node.listen(at: "127.0.0.1:0") { _ in Echo() }
/// let connection = try node.connect(to: listener.address, handler: Replies())
/// ```
public struct WeftNode: Sendable {
    public let configuration: WeftConfiguration
    public let descriptor: TransportDescriptor
    public let runtime: IORuntime
    public let transport: any Transport
    public let logger: Logger
    /// Where the IO threads run and the buffers come from (docs/numa.md).
    public let placement: PlacementPlan

    /// Loads the configuration (`flags` > `WEFT_*` in `environment` > `configFile` or
    /// `WEFT_CONFIG` > defaults; docs/configuration.md), then starts the node from it.
    public static func start(
        flags: [String: String] = [:], environment: [String: String] = ProcessEnvironment.current(),
        configFile: String? = nil, label: String = "weft", address: String? = nil
    ) async throws -> WeftNode {
        let loader = try await ConfigurationLoader.load(flags: flags, environment: environment, configFile: configFile)
        return try start(try WeftConfiguration(loader), label: label, address: address)
    }

    /// Resolves the transport (so an unavailable one fails before any thread starts),
    /// plans its placement from the device it will use for `address` (the listen or
    /// connect address, nil when not known yet), starts the IO threads there and makes
    /// the transport. `label` names the logger and the IO threads.
    public static func start(
        _ configuration: WeftConfiguration, label: String = "weft", address: String? = nil
    ) throws -> WeftNode {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let descriptor = try TransportRegistry.builtIn.resolve(name: configuration.transport, configuration: configuration)
        let secret = try configuration.secretFile.map { path throws(ConfigurationError) in
            try ClusterSecret.load(path: path)
        }
        let placement = try NUMAPlacement.current().plan(
            for: descriptor, address: address, configuration: configuration)
        logger.debug("placement of \(descriptor.name): \(placement)")
        let runtime = try IORuntime(
            threadCount: configuration.ioThreads, progress: configuration.progress,
            spinWindow: configuration.spinWindow, spinWindowLimit: configuration.spinWindowLimit,
            placement: placement.ioThreadPlacement, name: label)
        let context = TransportContext(
            runtime: runtime, node: configuration.nodeIdentity, secret: secret, limits: configuration.limits, logger: logger,
            connectTimeout: configuration.connectTimeout, idleTimeout: configuration.idleTimeout,
            heartbeatInterval: configuration.heartbeatInterval, maxConnections: configuration.maxConnections,
            reassembly: configuration.reassembly)
        ReassemblyPool.shared.limit = configuration.reassemblyProcessBytes
        do {
            let transport = try descriptor.make(context, configuration)
            return WeftNode(
                configuration: configuration, descriptor: descriptor, runtime: runtime, transport: transport,
                logger: logger, placement: placement)
        } catch {
            runtime.shutdown()
            throw error
        }
    }

    /// Starts accepting at `address`; `handler` makes the handler of each new peer.
    public func listen(
        at address: String, options: ConnectionOptions = ConnectionOptions(),
        handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener {
        try transport.listen(at: address, options: options, handler: handler)
    }

    /// Connects and completes the handshake before returning.
    public func connect(
        to address: String, options: ConnectionOptions = ConnectionOptions(), handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection {
        try transport.connect(to: address, options: options, handler: handler)
    }

    /// Stops the IO threads. Close listeners and connections first: what they committed
    /// goes out in order; after this, nothing does.
    public func shutdown() { runtime.shutdown() }
}
