import Synchronization
import Testing
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The IO thread's bookkeeping against reuse and shutdown: an event from a batch never reaches
/// a source registered later in the same slot, and a stopped thread refuses work at once.
@Suite(.serialized) struct IOThreadSlotTests {
    /// Two sources become readable in one batch; whichever is handled first deregisters the other
    /// and registers a newcomer, which gets the freed slot. The other's event, still in the batch,
    /// must not reach the newcomer (whose own pipe stays empty).
    @Test func staleEventDoesNotReachTheSlotsNextSource() throws {
        let thread = try IOThread(name: "test-slots", progress: .sleep)
        defer { thread.shutdown() }
        let scenario = try SlotReuseScenario(thread: thread)
        defer { scenario.closePipes() }
        try thread.submitAndWait { () throws(SystemError) in try scenario.start() }
        #expect(waitUntil { thread.submitAndWaitOrZero { scenario.swapped ? 1 : 0 } == 1 })
        usleep(50_000)
        let outcome = thread.submitAndWaitOrZero { scenario.newcomerEvents }
        #expect(thread.submitAndWaitOrZero { scenario.newcomerTookTheFreedSlot ? 1 : 0 } == 1)
        #expect(outcome == 0, "an event meant for the deregistered source reached the newcomer")
    }

    /// After `shutdown`, `submitAndWait` fails at once instead of waiting for ever, and
    /// `execute` says the job will not run; jobs accepted before the shutdown all ran.
    @Test(.timeLimit(.minutes(1))) func workAfterShutdownIsRefused() throws {
        let thread = try IOThread(name: "test-stopped", progress: .sleep)
        let ran = Atomic<Int>(0)
        var accepted = 0
        for _ in 0..<200 where thread.execute({ ran.wrappingAdd(1, ordering: .relaxed) }) { accepted += 1 }
        thread.shutdown()
        #expect(ran.load(ordering: .relaxed) == accepted)
        #expect(!thread.execute {})
        #expect(!thread.submitAndWait {})
        #expect(throws: IOThreadStopped.self) { try thread.submitAndWait { () throws(TransportError) -> Int in 1 } }
        do {
            _ = try thread.submitAndWait { () throws(SystemError) -> Int in 1 }
            Issue.record("a job ran on a stopped IO thread")
        } catch {
            #expect(error.errno == ESHUTDOWN)
            #expect(error.description.contains("has shut down"))
        }
    }
}

/// Two pipes watched by two sources, a third pipe for the newcomer. IO thread only, but for set-up.
private final class SlotReuseScenario: @unchecked Sendable {
    let thread: IOThread
    let pipes: [(read: Int32, write: Int32)]
    var registrations: [IORegistration] = []
    var swapped = false
    var newcomerTookTheFreedSlot = false
    var newcomerEvents = 0
    private var probes: [SlotProbe] = []

    init(thread: IOThread) throws {
        self.thread = thread
        var made: [(Int32, Int32)] = []
        for _ in 0..<3 {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw SystemError("pipe", errno: errno) }
            for end in ends { _ = fcntl(end, F_SETFL, O_NONBLOCK) }
            made.append((ends[0], ends[1]))
        }
        pipes = made
    }

    /// Registers and watches the first two sources, then makes both readable before the next batch.
    func start() throws(SystemError) {
        for index in 0..<2 {
            let probe = SlotProbe(index: index, scenario: self)
            probes.append(probe)
            let registration = thread.register(probe, pollsMemory: false)
            registrations.append(registration)
            try thread.watch(pipes[index].read, events: .readable, for: registration, token: 0, pollWhileSpinning: false)
        }
        for index in 0..<2 { write(pipes[index].write, "x", 1) }
    }

    func fired(_ index: Int) {
        if index == 2 {
            newcomerEvents += 1
            return
        }
        guard !swapped else { return }
        swapped = true
        let other = 1 - index
        thread.unwatch(pipes[other].read, pollWhileSpinning: false)
        thread.deregister(registrations[other])
        let newcomer = SlotProbe(index: 2, scenario: self)
        probes.append(newcomer)
        let registration = thread.register(newcomer, pollsMemory: false)
        newcomerTookTheFreedSlot = registration.slot == registrations[other].slot
        try? thread.watch(pipes[2].read, events: .readable, for: registration, token: 0, pollWhileSpinning: false)
    }

    func closePipes() {
        for ends in pipes {
            close(ends.read)
            close(ends.write)
        }
    }
}

private final class SlotProbe: IOSource {
    let index: Int
    unowned let scenario: SlotReuseScenario

    init(index: Int, scenario: SlotReuseScenario) {
        self.index = index
        self.scenario = scenario
    }

    func descriptorReady(token: UInt32, events: UInt32) {
        var byte: UInt8 = 0
        _ = read(scenario.pipes[index].read, &byte, 1)
        scenario.fired(index)
    }
}

extension IOThread {
    /// `submitAndWait` for tests of a running thread: 0 if it refused.
    fileprivate func submitAndWaitOrZero(_ job: @escaping @Sendable () -> Int) -> Int {
        (try? submitAndWait { () throws(SystemError) -> Int in job() }) ?? 0
    }
}

/// Polls `condition` every millisecond for up to 5 s.
private func waitUntil(_ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        usleep(1000)
    }
    return true
}
