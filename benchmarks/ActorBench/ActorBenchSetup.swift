import WeftActors
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// One run: the caller's IO runtime pinned to CPU 0, its raw connection and actor system,
/// and the callee (`CalleeSide`), in this process or in one of its own.
final class ActorBenchSetup {
    let callerRuntime: IORuntime
    let callerSystem: WeftActorSystem
    let rawConnection: any TransportConnection
    let ping = PingHandler()
    let callerExecutor: IOThreadExecutor
    let pinnedRemote: PinnedEcho
    let plainRemote: Echo
    private let localCallee: CalleeSide?
    private let calleeProcess: CalleeProcess?

    init(layout: BenchLayout, progress: ProgressMode, separateProcess: Bool) throws {
        let pinnedKey: String
        let plainKey: String
        if separateProcess {
            let process = try CalleeProcess(layout: layout, progress: progress)
            (calleeProcess, localCallee) = (process, nil)
            (pinnedKey, plainKey) = (process.pinnedKey, process.plainKey)
        } else {
            let side = try CalleeSide(layout: layout, progress: progress)
            (calleeProcess, localCallee) = (nil, side)
            (pinnedKey, plainKey) = (side.pinned.id.key, side.plain.id.key)
        }
        callerRuntime = try IORuntime(progress: progress, placement: IOThreadPlacement(cpus: [0]), name: "bench-caller")
        let context = TransportContext(runtime: callerRuntime, logger: benchLogger)
        rawConnection = try layout.makeTransport(context).connect(to: layout.raw, options: ConnectionOptions(), handler: ping)
        callerSystem = try WeftActorSystem(
            WeftActorSystemConfiguration(node: "caller", membership: Membership(layout.members)),
            transport: layout.makeTransport(context), logger: benchLogger)
        callerExecutor = IOThreadExecutor.for(callerRuntime.threads[0])
        pinnedRemote = try PinnedEcho.resolve(id: ActorID(node: "callee", type: "", key: pinnedKey), using: callerSystem)
        plainRemote = try Echo.resolve(id: ActorID(node: "callee", type: "", key: plainKey), using: callerSystem)
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
        callerSystem.shutdown()
        localCallee?.shutdown()
        calleeProcess?.shutdown()
        usleep(20_000)
        callerRuntime.shutdown()
    }
}
