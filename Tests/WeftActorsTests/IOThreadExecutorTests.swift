import Distributed
import Testing
import WeftActors
import WeftCore

/// A distributed actor bound to one IO thread: its methods run there.
distributed actor ThreadBound {
    typealias ActorSystem = WeftActorSystem
    let executor: IOThreadExecutor

    init(executor: IOThreadExecutor, actorSystem: WeftActorSystem) {
        self.executor = executor
        self.actorSystem = actorSystem
        actorSystem.bind(id, to: executor)
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { actorSystem.unownedExecutor(of: id) }

    /// True when the method body runs on the actor's IO thread.
    distributed func runsOnIOThread() -> Bool { executor.thread.isCurrent }

    distributed func add(_ a: Int, _ b: Int) -> Int { a + b }
}

@Suite(.serialized) struct IOThreadExecutorTests {
    @Test func taskPreferringTheExecutorRunsOnTheIOThread() async throws {
        let runtime = try IORuntime(name: "executor-test")
        defer { runtime.shutdown() }
        let executor = IOThreadExecutor.for(runtime.threads[0])
        #expect(IOThreadExecutor.for(runtime.threads[0]) === executor)
        let onThread = await Task(executorPreference: executor) { executor.thread.isCurrent }.value
        #expect(onThread)
        #expect(!executor.thread.isCurrent)
    }

    /// A remote call arriving on node b's IO thread runs the bound actor's method on that thread.
    @Test(arguments: [ActorCluster.Medium.local, .sharedMemory])
    func incomingCallRunsOnTheBoundIOThread(_ medium: ActorCluster.Medium) async throws {
        let cluster = try ActorCluster(["a", "b"], medium: medium)
        defer { cluster.shutdown() }
        let executor = IOThreadExecutor.for(cluster.runtimes[1].threads[0])
        let bound = ThreadBound(executor: executor, actorSystem: cluster["b"])
        let remote = try ThreadBound.resolve(id: bound.id, using: cluster["a"])
        for _ in 0..<20 { #expect(try await remote.runsOnIOThread()) }
        #expect(try await remote.add(2, 3) == 5)
        // A local call runs there too: the actor's executor is the IO thread's.
        #expect(try await bound.runsOnIOThread())
    }

    /// Counts the jobs IO threads run per call: a warm call to a bound actor queues one
    /// (the method's entry into the actor; the serve task starts at once on the thread that
    /// received the frame), and a caller on its own IO thread adds one (its resumption).
    @Test func boundCallsQueueOneJobPerStep() async throws {
        let cluster = try ActorCluster(["a", "b"], medium: .sharedMemory)
        defer { cluster.shutdown() }
        let bound = ThreadBound(executor: IOThreadExecutor.for(cluster.runtimes[1].threads[0]), actorSystem: cluster["b"])
        let remote = try ThreadBound.resolve(id: bound.id, using: cluster["a"])
        _ = try await remote.add(1, 2)
        var before = IOThreadExecutor.enqueuedJobs
        for _ in 0..<100 { _ = try await remote.add(1, 2) }
        #expect(IOThreadExecutor.enqueuedJobs - before <= 100)
        let caller = IOThreadExecutor.for(cluster.runtimes[0].threads[0])
        before = IOThreadExecutor.enqueuedJobs
        try await Task(executorPreference: caller) {
            for _ in 0..<100 { _ = try await remote.add(1, 2) }
        }.value
        // Per call: the method's entry and the caller's resumption; plus the task's start.
        #expect(IOThreadExecutor.enqueuedJobs - before <= 201)
    }

    /// Calls served on the IO threads still reach actors on the global executor.
    @Test func unboundActorsStillServeWithTheOptionOn() async throws {
        let cluster = try ActorCluster(["a", "b"])
        defer { cluster.shutdown() }
        #expect(cluster["b"].configuration.servesOnIOThreads)
        let counter = Counter(actorSystem: cluster["b"])
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        for expected in 1...50 { #expect(try await remote.add(1) == expected) }
        let bytes = try await remote.big(300_000)
        #expect(bytes.count == 300_000)
    }
}
