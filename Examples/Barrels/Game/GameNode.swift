import Logging
import WeftActors
import WeftCore
import WeftTransports

/// One member of a barrels cluster: its IO threads, its transport and its actor system,
/// set up from the resolved configuration.
public final class GameNode: Sendable {
    public let name: String
    public let runtime: IORuntime
    public let system: WeftActorSystem

    public init(
        name: String, membership: Membership, configuration: WeftConfiguration, descriptor: TransportDescriptor,
        callTimeout: Duration = .seconds(10)
    ) throws {
        self.name = name
        var logger = Logger(label: "barrels.\(name)")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let runtime = try IORuntime(
            threadCount: configuration.ioThreads, progress: configuration.progress, spinWindow: configuration.spinWindow,
            placement: IOThreadPlacement(cpus: configuration.ioCPUs), name: name)
        do {
            let context = TransportContext(
                runtime: runtime, limits: configuration.limits, logger: logger, connectTimeout: configuration.connectTimeout)
            let transport = try descriptor.make(context, configuration)
            system = try WeftActorSystem(
                WeftActorSystemConfiguration(node: name, membership: membership, callTimeout: callTimeout),
                transport: transport, logger: logger)
        } catch {
            runtime.shutdown()
            throw error
        }
        self.runtime = runtime
        GameRegistration.register(on: system, executor: IOThreadExecutor.for(runtime.threads[0]))
    }

    public func shutdown() {
        system.shutdown()
        runtime.shutdown()
    }
}
