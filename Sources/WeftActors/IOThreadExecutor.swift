import Synchronization
import WeftCore

/// Runs Swift concurrency jobs on one Weft IO thread: a `SerialExecutor` (an actor bound
/// with `WeftActorSystem.bind(_:to:)` returns it as its `unownedExecutor`, and then runs on
/// that thread) and a `TaskExecutor` (a task started with `Task(executorPreference:)` runs
/// its nonisolated code there).
///
/// A job is handed to the thread with `IOThread.execute` and run on its next loop turn
/// with `runSynchronously(on:)` as a task-executor job. The thread runs one job at a time,
/// which is all the mutual exclusion an actor needs. Running jobs with
/// `runSynchronously(isolatedTo:taskExecutor:)` instead was measured to queue eleven jobs
/// per served call rather than one: the runtime then takes each step between the serve
/// path's nonisolated functions as a switch of executor and queues it.
///
/// Two executors of the same thread are the same execution context
/// (`isSameExclusiveExecutionContext`), so `IOThreadExecutor.for(thread)` may be called
/// as often as convenient. Jobs must not block: the thread also drives its connections.
public final class IOThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    public let thread: IOThread

    public init(thread: IOThread) { self.thread = thread }

    private static let cache = Locked<[ObjectIdentifier: WeakExecutor]>([:])

    private struct WeakExecutor { weak var executor: IOThreadExecutor? }

    /// The executor of `thread`: the live one if some actor or system holds it, else a new one.
    public static func `for`(_ thread: IOThread) -> IOThreadExecutor {
        cache.withLock { cache in
            let key = ObjectIdentifier(thread)
            if let live = cache[key]?.executor { return live }
            cache = cache.filter { $0.value.executor != nil }
            let fresh = IOThreadExecutor(thread: thread)
            cache[key] = WeakExecutor(executor: fresh)
            return fresh
        }
    }

    /// Jobs handed to IO threads by every executor of this process (diagnostics: the
    /// benchmark divides it by the calls it made).
    public static var enqueuedJobs: Int { jobCounter.load(ordering: .relaxed) }
    private static let jobCounter = Atomic<Int>(0)

    public func enqueue(_ job: consuming ExecutorJob) {
        Self.jobCounter.wrappingAdd(1, ordering: .relaxed)
        let job = UnownedJob(job)
        thread.execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(complexEquality: self) }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor { UnownedTaskExecutor(ordinary: self) }

    public func isSameExclusiveExecutionContext(other: IOThreadExecutor) -> Bool { other.thread === thread }

    /// Lets the runtime see that code on this thread is isolated to this executor (so a
    /// task started here with `Task.immediate` may begin at once).
    public func isIsolatingCurrentContext() -> Bool? { thread.isCurrent }

    public func checkIsolated() {
        precondition(thread.isCurrent, "expected to run on IO thread \(thread.name)")
    }

    /// True when called on this executor's IO thread.
    public var isCurrent: Bool { thread.isCurrent }
}
