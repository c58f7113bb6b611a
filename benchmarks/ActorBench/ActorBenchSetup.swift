import Logging
import WeftActors
import WeftCore
import WeftSharedMemory

#if canImport(Glibc)
    import Glibc
#endif

/// The two IO runtimes, the raw shm connection and the two actor systems of one run.
final class ActorBenchSetup {
    let callerRuntime: IORuntime
    let calleeRuntime: IORuntime
    let callerSystem: WeftActorSystem
    let calleeSystem: WeftActorSystem
    let rawListener: any TransportListener
    let rawConnection: any TransportConnection
    let ping = PingHandler()
    let callerExecutor: IOThreadExecutor
    let pinned: PinnedEcho
    let plain: Echo
    let pinnedRemote: PinnedEcho
    let plainRemote: Echo

    init(progress: ProgressMode) throws {
        var logger = Logger(label: "weft.actor-bench")
        logger.logLevel = .critical
        callerRuntime = try IORuntime(progress: progress, placement: IOThreadPlacement(cpus: [0]), name: "bench-caller")
        calleeRuntime = try IORuntime(progress: progress, placement: IOThreadPlacement(cpus: [1]), name: "bench-callee")
        let callerContext = TransportContext(runtime: callerRuntime, logger: logger)
        let calleeContext = TransportContext(runtime: calleeRuntime, logger: logger)
        let tag = "\(getpid())"

        let rawAddress = "shm:actor-bench-raw-\(tag)"
        rawListener = try SharedMemoryTransport(context: calleeContext, ringBytes: 1 << 20).listen(
            at: rawAddress, options: ConnectionOptions()
        ) { _ in EchoHandler() }
        rawConnection = try SharedMemoryTransport(context: callerContext, ringBytes: 1 << 20).connect(
            to: rawAddress, options: ConnectionOptions(), handler: ping)

        let membership = Membership(["caller": "shm:actor-bench-caller-\(tag)", "callee": "shm:actor-bench-callee-\(tag)"])
        callerSystem = try WeftActorSystem(
            WeftActorSystemConfiguration(node: "caller", membership: membership),
            transport: SharedMemoryTransport(context: callerContext, ringBytes: 1 << 20), logger: logger)
        calleeSystem = try WeftActorSystem(
            WeftActorSystemConfiguration(node: "callee", membership: membership),
            transport: SharedMemoryTransport(context: calleeContext, ringBytes: 1 << 20), logger: logger)
        callerExecutor = IOThreadExecutor.for(callerRuntime.threads[0])
        pinned = PinnedEcho(executor: IOThreadExecutor.for(calleeRuntime.threads[0]), actorSystem: calleeSystem)
        plain = Echo(actorSystem: calleeSystem)
        pinnedRemote = try PinnedEcho.resolve(id: pinned.id, using: callerSystem)
        plainRemote = try Echo.resolve(id: plain.id, using: callerSystem)
    }

    /// Nanoseconds per raw round trip.
    func rawRoundTrip(count: Int) async -> Double {
        perIteration(await ping.run(count, on: rawConnection), count)
    }

    /// Nanoseconds per empty distributed call, one caller.
    func callRoundTrip(count: Int, placement: CallPlacement) async throws -> Double {
        perIteration(try await throughput(total: count, callers: 1, placement: placement), count)
    }

    /// Jobs the IO threads ran per call with `placement` (one caller).
    func jobsPerCall(placement: CallPlacement, count: Int = 10_000) async throws -> Double {
        let before = IOThreadExecutor.enqueuedJobs
        _ = try await throughput(total: count, callers: 1, placement: placement)
        return Double(IOThreadExecutor.enqueuedJobs - before) / Double(count)
    }

    func throughput(total: Int, callers: Int, placement: CallPlacement) async throws -> Duration {
        switch placement {
        case .ioThreads:
            let remote = pinnedRemote
            return try await runCalls(total, callers: callers, placement: placement, callerExecutor: callerExecutor) {
                try await remote.ping()
            }
        case .globalExecutor:
            let remote = plainRemote
            return try await runCalls(total, callers: callers, placement: placement, callerExecutor: callerExecutor) {
                try await remote.ping()
            }
        }
    }

    func shutdown() {
        rawConnection.close()
        rawListener.close()
        callerSystem.shutdown()
        calleeSystem.shutdown()
        usleep(20_000)
        callerRuntime.shutdown()
        calleeRuntime.shutdown()
    }
}
