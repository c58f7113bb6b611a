import CWeftCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A registered source's handle on its IO thread: its slot, and the slot's generation, which
/// changes whenever the slot is freed, so an event meant for an earlier source in the same
/// slot (still in the batch `epoll_wait` returned) is told apart and dropped.
package struct IORegistration: Hashable, Sendable {
    public let slot: Int
    let generation: UInt8
}

/// One OS thread that drives the sources registered with it: it polls memory
/// (shared-memory rings), waits on descriptors with epoll (sockets, eventfds, pidfds),
/// runs jobs handed to it from other threads, and flushes coalesced output after each batch.
///
/// Everything a source does runs on this thread, so sources need no locks for their own state.
public final class IOThread: @unchecked Sendable {
    public let name: String
    public let progress: ProgressMode
    /// The CPUs this thread is pinned to (before it publishes itself); empty: not pinned.
    public let affinity: [Int]
    /// The one CPU this thread is pinned to, if exactly one.
    public var cpu: Int? { affinity.count == 1 ? affinity[0] : nil }
    /// Adaptive mode's spin window, learned from the idle gaps (IO thread only).
    private var spinWindow: AdaptiveSpinWindow

    private let epoll: Epoll
    // Thread-confined state.
    private var slots: [IOSource?] = []
    private var generations: [UInt8] = []
    private var freeSlots: [Int] = []
    /// Sources polled on every turn (for sleeping and waking; not iterated on the hot path).
    private var memoryPollers: [IOSource] = []
    /// Their poll hooks, iterated on every turn without reference counting.
    private let pollList = UnsafeMutablePointer<MemoryPollList>.allocate(capacity: 1)
    /// Hooks by slot, and boxes for sources that have no hook of their own.
    private var hookContexts: [Int: UnsafeMutableRawPointer] = [:]
    private var pollBoxes: [Int: ProtocolPollBox] = [:]
    /// Sources deregistered during a poll pass stay alive until the turn ends.
    private var retiredThisTurn: [AnyObject] = []
    private let descriptorsPolledWhileSpinning = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var spinReaders = 0
    private var dirtySlots: [Int] = []
    private var isDirty: [Bool] = []
    /// Sources that asked for `tick(now:)`, by slot, with their period (ns); the thread
    /// ticks them all at the shortest period, and reads its clock only while there are any.
    private var tickers: [Int: (source: IOSource, period: UInt64)] = [:]
    private var tickPeriod: UInt64 = 0
    private var nextTick: UInt64 = 0
    /// Work that could not go on yet (a reply waiting for send space), run again about a
    /// millisecond later (see `retryLater`); the thread may sleep meanwhile.
    private var retries: [() -> Void] = []
    private var retriesDue: UInt64 = 0
    private let tokens = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
    private let eventBits = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
    // Shared with other threads.
    private let jobs = Locked(JobQueue())
    private let hasJobs = Atomic<Bool>(false)
    private let sleeping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(true)
    private let threadID = Atomic<UInt>(0)
    /// The errno of a failed pinning, written before `threadID` is published.
    private let pinningErrno = Atomic<Int32>(0)
    private let finished = Locked<Bool>(false)
    private var handle: pthread_t = 0

    /// Starts the thread pinned to `cpu` (nil: not pinned).
    public convenience init(
        name: String, progress: ProgressMode, spinWindow: Duration = .microseconds(100), cpu: Int? = nil
    ) throws(PlacementError) {
        try self.init(
            name: name, progress: progress, spinWindow: spinWindow, spinWindowLimit: nil, affinity: cpu.map { [$0] } ?? [])
    }

    /// Starts the thread, allowed to run on `affinity` only (empty: not pinned). The thread
    /// pins itself before it publishes itself, so a refused pinning throws from here.
    /// `spinWindowLimit` above `spinWindow` lets adaptive mode learn a longer window, up to
    /// it (see `AdaptiveSpinWindow`); nil keeps the window fixed.
    public init(
        name: String, progress: ProgressMode, spinWindow: Duration = .microseconds(100),
        spinWindowLimit: Duration? = nil, affinity: [Int]
    ) throws(PlacementError) {
        self.name = name
        self.progress = progress
        self.affinity = affinity
        self.spinWindow = AdaptiveSpinWindow(
            base: spinWindow.wholeNanoseconds, limit: spinWindowLimit?.wholeNanoseconds ?? 0)
        do { epoll = try Epoll() } catch { throw .threadStart(error) }
        pollList.initialize(to: MemoryPollList())
        descriptorsPolledWhileSpinning.initialize(to: 0)
        do { try start() } catch { throw .threadStart(error) }
        let failed = pinningErrno.load(ordering: .acquiring)
        if failed != 0 {
            running.store(false, ordering: .relaxed)
            pthread_join(handle, nil)
            throw .pinningFailed(
                thread: name, cpus: affinity, allowed: (try? ThreadAffinity.current()) ?? [],
                error: SystemError("sched_setaffinity", errno: failed))
        }
    }

    deinit {
        tokens.deallocate()
        eventBits.deallocate()
        pollList.pointee.deallocate()
        pollList.deinitialize(count: 1)
        pollList.deallocate()
        descriptorsPolledWhileSpinning.deallocate()
    }

    /// This thread's clock (`CLOCK_MONOTONIC_COARSE`, nanoseconds), read once per loop turn
    /// and after each sleep while a source ticks: connections stamp the frames they hear
    /// with it, at no system call per frame. IO thread only.
    @exclusivity(unchecked) package private(set) var now: UInt64 = 0

    /// Reads the clock now (outside the per-turn reading: setting a deadline). IO thread only.
    package func refreshClock() -> UInt64 {
        now = cweft_coarse_now_ns()
        return now
    }

    /// True when called on this IO thread.
    public var isCurrent: Bool { threadID.load(ordering: .relaxed) == UInt(bitPattern: Int(pthread_self())) }

    // MARK: Cross-thread

    /// Runs `job` on this thread soon, waking it if it sleeps. Returns false, without running
    /// it, once the thread has shut down: every job accepted before that runs.
    @discardableResult
    public func execute(_ job: @escaping @Sendable () -> Void) -> Bool {
        guard jobs.withLock({ $0.accept(job) }) else { return false }
        hasJobs.store(true, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) { epoll.wake() }
        return true
    }

    /// Runs `job` on this thread and waits for its result (never call it from this thread).
    /// Once the thread has shut down the job does not run: this throws `IOThreadStopped`.
    public func submitAndWait<T: Sendable, E: Error>(_ job: @escaping @Sendable () throws(E) -> T) throws -> T {
        try submitAndWaitResult(job).get().get()
    }

    /// The same for jobs that fail with a system error (setting a source up): a thread that
    /// has shut down is reported as one too (`ESHUTDOWN`).
    public func submitAndWait<T: Sendable>(
        _ job: @escaping @Sendable () throws(SystemError) -> T
    ) throws(SystemError) -> T {
        switch submitAndWaitResult(job) {
        case .success(let result): return try result.get()
        case .failure(let stopped): throw SystemError("\(stopped)", errno: ESHUTDOWN)
        }
    }

    /// The same for jobs that return nothing (closing a source): false, without running the
    /// job, once the thread has shut down.
    @discardableResult
    public func submitAndWait(_ job: @escaping @Sendable () -> Void) -> Bool {
        (try? submitAndWaitResult(job).get()) != nil
    }

    private func submitAndWaitResult<T: Sendable, E: Error>(
        _ job: @escaping @Sendable () throws(E) -> T
    ) -> Result<Result<T, E>, IOThreadStopped> {
        if isCurrent { return .success(Result(catching: job)) }
        let box = Locked<Result<T, E>?>(nil)
        let done = DispatchSemaphoreLite()
        let accepted = execute {
            let result: Result<T, E>
            do throws(E) { result = .success(try job()) } catch { result = .failure(error) }
            box.withLock { $0 = result }
            done.signal()
        }
        guard accepted else { return .failure(IOThreadStopped(thread: name)) }
        done.wait()
        return .success(box.withLock { $0! })
    }

    /// Stops the loop and joins the thread. Sources should be closed first.
    public func shutdown() {
        guard running.exchange(false, ordering: .sequentiallyConsistent) else { return }
        epoll.wake()
        if !isCurrent { pthread_join(handle, nil) }
    }

    // MARK: On-thread registration

    /// Adds a source. `pollsMemory`: call its `poll()` on every loop turn.
    package func register(_ source: IOSource, pollsMemory: Bool) -> IORegistration {
        precondition(isCurrent, "register on the IO thread")
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = source
        } else {
            slot = slots.count
            precondition(slot < Self.maxSlots, "IO thread \(name) has \(slot) sources, the most one thread drives")
            slots.append(source)
            generations.append(0)
            isDirty.append(false)
        }
        if pollsMemory {
            memoryPollers.append(source)
            let hook: PollHook
            if let own = source.pollHook {
                hook = own
            } else {
                let box = ProtocolPollBox(source)
                pollBoxes[slot] = box
                hook = box.hook
            }
            hookContexts[slot] = hook.context
            pollList.pointee.append(hook)
        }
        return IORegistration(slot: slot, generation: generations[slot])
    }

    /// Calls the source's `tick(now:)` about every `period` (at the shortest period any
    /// source of this thread asked for), until `stopTicking` or `deregister`. Also wakes a
    /// sleeping thread that often. On the IO thread.
    package func startTicking(_ registration: IORegistration, every period: Duration) {
        precondition(isCurrent, "start ticking on the IO thread")
        guard let source = slots[registration.slot] else { return }
        now = cweft_coarse_now_ns()
        tickers[registration.slot] = (source, max(1_000_000, period.wholeNanoseconds))
        updateTickPeriod()
    }

    package func stopTicking(_ registration: IORegistration) {
        precondition(isCurrent, "stop ticking on the IO thread")
        guard tickers.removeValue(forKey: registration.slot) != nil else { return }
        updateTickPeriod()
    }

    private func updateTickPeriod() {
        let period = tickers.values.lazy.map(\.period).min() ?? 0
        if period != tickPeriod {
            tickPeriod = period
            nextTick = now &+ period
        }
    }

    /// Runs `job` on this thread again in about a millisecond, without waiting here: how a
    /// handler on this thread that met back-pressure (`wouldBlock`) tries again while the
    /// thread serves everything else. The job may call `retryLater` again. IO thread only.
    package func retryLater(_ job: @escaping () -> Void) {
        precondition(isCurrent, "retry on the IO thread")
        if retries.isEmpty { retriesDue = cweft_coarse_now_ns() &+ Self.retryDelay }
        retries.append(job)
    }

    private static let retryDelay: UInt64 = 1_000_000

    /// Retries do not count as work: a connection stalled by its peer must not keep this
    /// thread from sleeping between attempts.
    private func runRetriesIfDue() {
        now = cweft_coarse_now_ns()
        guard now >= retriesDue else { return }
        let due = retries
        retries.removeAll(keepingCapacity: true)
        retriesDue = now &+ Self.retryDelay
        for job in due { job() }
    }

    /// Ticks every ticking source once its period passed (sources may stop ticking meanwhile).
    private func tickIfDue() {
        now = cweft_coarse_now_ns()
        guard now >= nextTick else { return }
        nextTick = now &+ tickPeriod
        for (slot, ticker) in tickers where slots[slot] === ticker.source {
            ticker.source.tick(now: now)
        }
    }

    /// Removes a source and every descriptor it watched must already be unwatched.
    package func deregister(_ registration: IORegistration) {
        precondition(isCurrent, "deregister on the IO thread")
        guard let source = slots[registration.slot] else { return }
        if tickers.removeValue(forKey: registration.slot) != nil { updateTickPeriod() }
        if let context = hookContexts.removeValue(forKey: registration.slot) {
            // A pass may be iterating right now: the list drops the hook after it, and the
            // source (and its box) stay alive until the turn ends.
            pollList.pointee.remove(context: context)
            memoryPollers.removeAll { $0 === source }
            retiredThisTurn.append(source)
            if let box = pollBoxes.removeValue(forKey: registration.slot) { retiredThisTurn.append(box) }
        }
        slots[registration.slot] = nil
        generations[registration.slot] &+= 1
        freeSlots.append(registration.slot)
    }

    /// Watches `descriptor`; readiness calls the source's `descriptorReady(token:events:)`.
    /// `pollWhileSpinning`: check it on every spinning turn (sockets), not only before sleeping.
    package func watch(
        _ descriptor: Int32, events: IOEvents, for registration: IORegistration, token: UInt32,
        pollWhileSpinning: Bool
    ) throws(SystemError) {
        try epoll.add(descriptor, events: events, token: Self.token(registration, token))
        if pollWhileSpinning { descriptorsPolledWhileSpinning.pointee += 1 }
    }

    package func changeWatch(
        _ descriptor: Int32, events: IOEvents, for registration: IORegistration, token: UInt32
    ) throws(SystemError) {
        try epoll.modify(descriptor, events: events, token: Self.token(registration, token))
    }

    package func unwatch(_ descriptor: Int32, pollWhileSpinning: Bool) {
        epoll.remove(descriptor)
        if pollWhileSpinning { descriptorsPolledWhileSpinning.pointee -= 1 }
    }

    /// Sources that read their socket themselves on every spinning turn, instead of one
    /// `epoll_wait` per turn telling them to: a few at most, since past that one
    /// `epoll_wait` costs less than a read per source. `spin` threads only for now: direct
    /// reads on adaptive threads made a back-pressure test's node grow by 430 MiB under
    /// AddressSanitizer (30 MiB with its quarantine off): in the unoptimised build the read path
    /// churns memory while it spins, and the quarantine keeps what it frees.
    package static let maxSpinReaders = 4

    /// A place among the spin readers: true on a spinning thread with one free (IO thread).
    package func claimSpinReader() -> Bool {
        precondition(isCurrent, "claim a spin reader on the IO thread")
        guard progress == .spin, spinReaders < Self.maxSpinReaders else { return false }
        spinReaders += 1
        return true
    }

    package func releaseSpinReader() { spinReaders -= 1 }

    /// Asks for the source's `flush()` after the current batch.
    package func markDirty(_ registration: IORegistration) {
        if !isDirty[registration.slot] {
            isDirty[registration.slot] = true
            dirtySlots.append(registration.slot)
        }
    }

    /// An epoll token: generation (8 bits), slot (24 bits), the source's own token (32 bits).
    private static func token(_ registration: IORegistration, _ token: UInt32) -> UInt64 {
        UInt64(registration.generation) << 56 | UInt64(registration.slot) << 32 | UInt64(token)
    }

    /// Slots fit in 24 bits of the token, and the all-ones slot is left to `Epoll.wakeToken`.
    static let maxSlots = (1 << 24) - 1
    /// Idle turns between clock readings in adaptive mode (a turn polls every source once).
    static let idleClockStride: UInt = 16

    // MARK: The loop

    private func start() throws(SystemError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                let thread = Unmanaged<IOThread>.fromOpaque(raw!).takeRetainedValue()
                thread.run()
                return nil
            }, context)
        guard rc == 0 else {
            Unmanaged<IOThread>.fromOpaque(context).release()
            throw SystemError("pthread_create", errno: rc)
        }
        while threadID.load(ordering: .acquiring) == 0 { sched_yield() }
    }

    private func run() {
        _ = cweft_set_thread_name(String(name.prefix(15)))
        // Pinned before anything runs here and before `start` learns the thread exists:
        // a refusal stops the thread and is thrown from `init`.
        if !affinity.isEmpty {
            do throws(SystemError) {
                try ThreadAffinity.setCurrent(affinity)
            } catch {
                pinningErrno.store(error.errno, ordering: .relaxed)
                threadID.store(UInt(bitPattern: Int(pthread_self())), ordering: .releasing)
                return
            }
        }
        threadID.store(UInt(bitPattern: Int(pthread_self())), ordering: .releasing)
        var idleSince: UInt64 = 0
        // Adaptive mode reads the clock on the first idle turn of a gap and then only every
        // `idleClockStride` turns, and never when work ends a gap it spun through (the gap
        // counts to its last reading, so gaps under a stride learn as 0, far below any
        // window): where the clocksource has no vDSO path (HPET, some hypervisors) a reading
        // is a system call.
        var idleClock: UInt64 = 0
        var idleTurns: UInt = 0
        var turn: UInt = 0
        var workSinceTick = 0
        let learnsSpinWindow = progress == .adaptive && spinWindow.learns
        while running.load(ordering: .relaxed) {
            var work = 0
            if hasJobs.load(ordering: .relaxed) { work += runJobs() }
            work &+= MemoryPollList.pollAll(pollList)
            // The coarse clock moves every few milliseconds: a spinning thread reads it every
            // 64th turn or after 16 units of work, not every turn (a turn may be one message),
            // so heartbeats keep their time when turns are long.
            workSinceTick &+= work
            if tickPeriod != 0 && (progress != .spin || turn & 63 == 0 || workSinceTick >= 16) {
                workSinceTick = 0
                tickIfDue()
            }
            if !retries.isEmpty { runRetriesIfDue() }
            turn &+= 1
            if descriptorsPolledWhileSpinning.pointee > 0 || turn & 1023 == 0 { work += pollDescriptors(timeout: 0) }
            if !dirtySlots.isEmpty { flushDirty() }
            if work > 0 && !retiredThisTurn.isEmpty { retiredThisTurn.removeAll() }
            if work > 0 {
                if idleSince != 0 {
                    if learnsSpinWindow { spinWindow.idleGapEnded(lasting: idleClock &- idleSince) }
                    idleSince = 0
                }
                idleTurns = 0
                continue
            }
            switch progress {
            case .spin:
                cweft_cpu_relax()
            case .adaptive:
                idleTurns &+= 1
                guard idleTurns % Self.idleClockStride == 1 else {
                    cweft_cpu_relax()
                    break
                }
                idleClock = cweft_now_ns()
                if idleSince == 0 {
                    idleSince = idleClock
                } else if idleClock &- idleSince >= spinWindow.current {
                    let woke = sleepUntilWoken()
                    // A sleep is a system call anyway: the gap is read again after it, so
                    // work on a later turn learns the gap as it was.
                    idleClock = cweft_now_ns()
                    // Learning, the gap runs on until work comes (here, or on a later turn):
                    // a wake-up without work sleeps again at once.
                    if !learnsSpinWindow {
                        idleSince = 0
                        idleTurns = 0
                    } else if woke > 0 {
                        spinWindow.idleGapEnded(lasting: idleClock &- idleSince)
                        idleSince = 0
                        idleTurns = 0
                    }
                } else {
                    cweft_cpu_relax()
                }
            case .sleep:
                _ = sleepUntilWoken()
            }
        }
        // From here on `execute` refuses jobs; those accepted before still run.
        jobs.withLock { $0.isClosed = true }
        _ = runJobs()
        // A stopped thread lets its sources go (their memory with them, or left to frames
        // their handlers still hold).
        retries.removeAll()
        tickers.removeAll()
        memoryPollers.removeAll()
        pollBoxes.removeAll()
        retiredThisTurn.removeAll()
        slots.removeAll()
        finished.withLock { $0 = true }
    }

    private func runJobs() -> Int {
        hasJobs.store(false, ordering: .sequentiallyConsistent)
        let batch = jobs.withLock { queue -> [@Sendable () -> Void] in
            let taken = queue.pending
            queue.pending.removeAll(keepingCapacity: true)
            return taken
        }
        for job in batch { job() }
        return batch.count
    }

    /// Returns the events handed to sources (the thread's own wake-up not counted).
    private func pollDescriptors(timeout: Int32) -> Int {
        let count = epoll.wait(tokens: tokens, events: eventBits, capacity: 64, timeout: timeout)
        var handled = 0
        // After a sleep the clock moved: frames heard now must not carry the time before it.
        if timeout != 0 && tickPeriod != 0 { now = cweft_coarse_now_ns() }
        for index in 0..<count {
            let token = tokens[index]
            if token == Epoll.wakeToken {
                epoll.drainWake()
                continue
            }
            let slot = Int(truncatingIfNeeded: token >> 32) & 0xFF_FFFF
            // A source deregistered earlier in this batch may have given its slot to a new one.
            if slot < slots.count, generations[slot] == UInt8(truncatingIfNeeded: token >> 56), let source = slots[slot] {
                source.descriptorReady(token: UInt32(truncatingIfNeeded: token), events: eventBits[index])
                handled += 1
            }
        }
        return handled
    }

    private func flushDirty() {
        // A flush may mark more sources dirty; take the list first.
        let pending = dirtySlots
        dirtySlots.removeAll(keepingCapacity: true)
        for slot in pending {
            isDirty[slot] = false
            slots[slot]?.flush()
        }
    }

    /// Returns the work found on the way (a source busy before sleeping, events handled on
    /// waking): sources run their receive paths right there, so it ends an idle gap.
    private func sleepUntilWoken() -> Int {
        sleeping.store(true, ordering: .sequentiallyConsistent)
        var timeout: Int32 = -1
        var busy = false
        for source in memoryPollers {
            switch source.prepareToSleep() {
            case .armed: break
            case .busy: busy = true
            case .pollAgain(let ms): timeout = timeout < 0 ? ms : min(timeout, ms)
            }
        }
        if !retries.isEmpty {
            let current = cweft_coarse_now_ns()
            let untilRetry = Int32(clamping: retriesDue > current ? (retriesDue - current) / 1_000_000 + 1 : 0)
            timeout = timeout < 0 ? untilRetry : min(timeout, untilRetry)
            if untilRetry == 0 { busy = true }
        }
        if tickPeriod != 0 {
            // Sleep no later than the next tick.
            let current = cweft_coarse_now_ns()
            let untilTick = Int32(clamping: nextTick > current ? (nextTick - current) / 1_000_000 + 1 : 0)
            timeout = timeout < 0 ? untilTick : min(timeout, untilTick)
            if untilTick == 0 { busy = true }
        }
        var work = busy ? 1 : 0
        if !busy && !hasJobs.load(ordering: .sequentiallyConsistent) && running.load(ordering: .relaxed) {
            work = pollDescriptors(timeout: timeout)
        }
        sleeping.store(false, ordering: .relaxed)
        for source in memoryPollers { source.didWake() }
        return work
    }
}

/// Jobs handed to an IO thread, and whether it still takes them.
private struct JobQueue {
    var pending: [@Sendable () -> Void] = []
    var isClosed = false

    mutating func accept(_ job: @escaping @Sendable () -> Void) -> Bool {
        guard !isClosed else { return false }
        pending.append(job)
        return true
    }
}

/// A job handed to an IO thread after it shut down: it did not run.
public struct IOThreadStopped: Error, Sendable, CustomStringConvertible {
    public let thread: String
    public var description: String { "IO thread \(thread) has shut down and runs no more jobs" }
}
