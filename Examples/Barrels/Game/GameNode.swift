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

    /// `memberIndex`: this member's place among the members on this host, which picks its IO
    /// thread's CPU when the configuration names none (`ioCPUs(for:)`).
    public init(
        name: String, memberIndex: Int, membership: Membership, configuration: WeftConfiguration,
        descriptor: TransportDescriptor, callTimeout: Duration = .seconds(10)
    ) throws {
        self.name = name
        var logger = Logger(label: "barrels.\(name)")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let runtime = try IORuntime(
            threadCount: configuration.ioThreads, progress: configuration.progress, spinWindow: configuration.spinWindow,
            placement: IOThreadPlacement(cpus: Self.ioCPUs(configuration, memberIndex: memberIndex)), name: name)
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

    /// The configured IO CPUs, or else one CPU this process may use, a different one for
    /// each member in turn. Left to the scheduler, the IO threads of two members that call
    /// each other were often put on one CPU (a woken thread goes where its waker ran), where
    /// each waited out the other's adaptive spin window: a shot to the other process then
    /// took 130 µs instead of 20.
    static func ioCPUs(_ configuration: WeftConfiguration, memberIndex: Int) -> [Int] {
        guard configuration.ioCPUs.isEmpty else { return configuration.ioCPUs }
        guard let allowed = try? ThreadAffinity.current(), !allowed.isEmpty else { return [] }
        return [allowed[memberIndex % allowed.count]]
    }

    public func shutdown() {
        system.shutdown()
        runtime.shutdown()
    }
}
