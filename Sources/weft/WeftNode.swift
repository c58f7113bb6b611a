import Logging
import WeftCore
import WeftNUMA
import WeftTransports
#if canImport(Glibc)
import Glibc
#endif

/// One process's Weft setup: the resolved transport, its IO threads and a logger.
struct WeftNode {
    let configuration: WeftConfiguration
    let descriptor: TransportDescriptor
    let runtime: IORuntime
    let transport: any Transport
    let logger: Logger
    /// Where the IO threads run and the buffers come from (docs/numa.md).
    let placement: PlacementPlan

    /// Resolves the transport (so an unavailable one fails before any thread starts),
    /// plans its placement from the device it will use for `address` (the listen or
    /// connect address, nil when not known yet), starts the IO threads there and makes
    /// the transport.
    static func start(_ configuration: WeftConfiguration, label: String, address: String? = nil) throws -> WeftNode {
        let logger = Logger(label: label)
        let descriptor = try TransportRegistry.builtIn.resolve(name: configuration.transport, configuration: configuration)
        let secret = try configuration.secretFile.map { path throws(ConfigurationError) in
            try ClusterSecret.load(path: path)
        }
        let placement = try NUMAPlacement.current().plan(
            for: descriptor, address: address, configuration: configuration)
        logger.debug("placement of \(descriptor.name): \(placement)")
        let runtime = try IORuntime(
            threadCount: configuration.ioThreads, progress: configuration.progress,
            spinWindow: configuration.spinWindow, placement: placement.ioThreadPlacement, name: label)
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

    func shutdown() { runtime.shutdown() }
}

/// swift-log to stderr at the configured level; once per process.
enum LogSetup {
    static func bootstrap(level: String) {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
    }
}

func getProcessID() -> Int32 { getpid() }
