import BarrelsGame
import Logging
import WeftActors
import WeftCore
import WeftLocal
import WeftSharedMemory
import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

/// Several actor systems in this process, each with its own IO runtime, torn down together.
final class ActorCluster: @unchecked Sendable {
    let systems: [String: WeftActorSystem]
    let runtimes: [IORuntime]
    let membership: Membership

    enum Medium: Sendable { case local, sharedMemory, tcp }

    /// `extra`: members that are in the list but never started (down nodes).
    init(
        _ names: [String], medium: Medium = .local, extra: [String: String] = [:], callTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(300), maxUnansweredCalls: Int = 256, allowOops: Bool = true,
        configure: (WeftActorSystem) -> Void = { _ in }
    ) throws {
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var addresses = extra
        let ports = medium == .tcp ? try ClusterAddresses.freeLoopbackPorts(names.count) : []
        for (index, name) in names.enumerated() {
            switch medium {
            case .local: addresses[name] = "local:\(name)-\(tag)"
            case .sharedMemory: addresses[name] = "shm:\(name)-\(tag)"
            case .tcp: addresses[name] = "127.0.0.1:\(ports[index])"
            }
        }
        membership = Membership(addresses)
        var logger = Logger(label: "weft.actors.test")
        logger.logLevel = .critical
        var systems: [String: WeftActorSystem] = [:]
        var runtimes: [IORuntime] = []
        for name in names {
            let runtime = try IORuntime(progress: .adaptive, spinWindow: .microseconds(20), name: name)
            runtimes.append(runtime)
            let context = TransportContext(runtime: runtime, logger: logger)
            let transport: any Transport =
                switch medium {
                case .local: LocalTransport(context: context)
                case .sharedMemory: SharedMemoryTransport(context: context, ringBytes: 256 << 10)
                case .tcp: TCPTransport(context: context)
                }
            let system = try WeftActorSystem(
                WeftActorSystemConfiguration(
                    node: name, membership: membership, callTimeout: callTimeout, idleTimeout: idleTimeout,
                    maxUnansweredCalls: maxUnansweredCalls),
                transport: transport, logger: logger)
            if allowOops { system.allowRemoteTypes(Oops.self) }
            configure(system)
            systems[name] = system
        }
        self.systems = systems
        self.runtimes = runtimes
    }

    subscript(name: String) -> WeftActorSystem { systems[name]! }

    func shutdown() {
        for system in systems.values { system.shutdown() }
        usleep(20_000)
        for runtime in runtimes { runtime.shutdown() }
    }
}

/// Polls `condition` every 5 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
