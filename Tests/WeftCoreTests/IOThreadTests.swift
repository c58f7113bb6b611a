import Synchronization
import Testing
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The IO thread runs handed-over jobs on itself and wakes from sleep to do so.
@Suite(.serialized) struct IOThreadTests {
    @Test(arguments: [ProgressMode.sleep, .adaptive, .spin])
    func jobsRunOnTheThreadAndWakeIt(mode: ProgressMode) throws {
        let thread = try IOThread(name: "test-io", progress: mode, spinWindow: .microseconds(10))
        defer { thread.shutdown() }
        #expect(!thread.isCurrent)
        // Let a sleeping thread fall asleep first, so the job must wake it.
        usleep(20_000)
        let ranOnThread = try thread.submitAndWait { thread.isCurrent }
        #expect(ranOnThread)
        let counter = Atomic<Int>(0)
        for _ in 0..<1000 { thread.execute { counter.wrappingAdd(1, ordering: .relaxed) } }
        #expect(try thread.submitAndWait { counter.load(ordering: .relaxed) } == 1000)
    }

    @Test func errorsComeBackFromSubmitAndWait() throws {
        let thread = try IOThread(name: "test-io", progress: .sleep)
        defer { thread.shutdown() }
        #expect(throws: SystemError.self) {
            try thread.submitAndWait { () throws(SystemError) -> Int in throw SystemError("probe", errno: EINVAL) }
        }
    }

    @Test func runtimeSpreadsConnectionsRoundRobin() throws {
        let runtime = try IORuntime(threadCount: 3, progress: .sleep)
        defer { runtime.shutdown() }
        let picked = (0..<6).map { _ in ObjectIdentifier(runtime.nextThread()) }
        #expect(picked[0] != picked[1] && picked[1] != picked[2] && picked[0] == picked[3])
    }
}
