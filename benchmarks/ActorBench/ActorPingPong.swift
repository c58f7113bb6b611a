import Distributed
import WeftActors
import WeftCore

/// The callee of the global-executor measurements: an empty method.
distributed actor Echo {
    typealias ActorSystem = WeftActorSystem

    distributed func ping() {}
}

/// The same callee bound to an IO thread (`IOThreadExecutor`).
distributed actor PinnedEcho {
    typealias ActorSystem = WeftActorSystem

    init(executor: IOThreadExecutor, actorSystem: WeftActorSystem) {
        self.actorSystem = actorSystem
        actorSystem.bind(id, to: executor)
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { actorSystem.unownedExecutor(of: id) }

    distributed func ping() {}
}

/// Where the callers and the callee run.
enum CallPlacement: String, CaseIterable {
    /// Caller tasks prefer the caller's IO thread; the callee is bound to the callee's IO thread.
    case ioThreads = "IO-thread executors"
    /// Caller tasks and the callee on Swift's global executor.
    case globalExecutor = "global executor"

    /// The placement's name in `--placements` and in the JSON output.
    var key: String { self == .ioThreads ? "io" : "global" }
}

/// Makes `callers` tasks that share `total` calls of `call`; returns the wall time.
func runCalls(
    _ total: Int, callers: Int, placement: CallPlacement, callerExecutor: IOThreadExecutor,
    _ call: @escaping @Sendable () async throws -> Void
) async throws -> Duration {
    let started = ContinuousClock.now
    let preferred: IOThreadExecutor? = placement == .ioThreads ? callerExecutor : nil
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<callers {
            let share = total / callers + (index < total % callers ? 1 : 0)
            group.addTask(executorPreference: preferred) {
                for _ in 0..<share { try await call() }
            }
        }
        try await group.waitForAll()
    }
    return ContinuousClock.now - started
}

extension PinnedEcho: RegisteredMethods {
    static func registerMethods(into methods: inout MethodTable<PinnedEcho>) {
        methods.add("ping()") { (echo: isolated PinnedEcho) in echo.ping() }
    }
}

extension Echo: RegisteredMethods {
    static func registerMethods(into methods: inout MethodTable<Echo>) {
        methods.add("ping()") { (echo: isolated Echo) in echo.ping() }
    }
}
