import Synchronization
import Testing
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Heartbeats and the idle time-out: the decisions (pure logic, in nanoseconds) and the IO
/// thread's ticks that drive them, even while the thread sleeps.
@Suite struct ConnectionLivenessTests {
    let second: UInt64 = 1_000_000_000

    @Test func aSilentSendSideSendsAHeartbeatEachInterval() {
        var liveness = ConnectionLiveness(
            heartbeatInterval: .seconds(1), idleTimeout: .seconds(5), now: 10 * second)
        #expect(liveness.check(now: 10 * second + second / 2) == .none)
        #expect(liveness.check(now: 11 * second) == .sendHeartbeat)
        // Asked for once: not again until another interval of silence.
        #expect(liveness.check(now: 11 * second + second / 2) == .none)
        liveness.sent(at: 11 * second + second / 2)
        #expect(liveness.check(now: 12 * second + second / 4) == .none)
        #expect(liveness.check(now: 12 * second + second / 2) == .sendHeartbeat)
    }

    @Test func aPeerHeardNothingFromPastTheTimeOutIsLost() {
        var liveness = ConnectionLiveness(
            heartbeatInterval: .seconds(1), idleTimeout: .seconds(5), now: 10 * second)
        liveness.heard(at: 12 * second)
        #expect(liveness.check(now: 16 * second) != .peerLost(silentFor: 4 * second))
        #expect(liveness.check(now: 17 * second) == .peerLost(silentFor: 5 * second))
        #expect(liveness.lostReason(silentFor: 5 * second).contains("idle-timeout-ms"))
    }

    /// A transport that retransmits longer than the idle time-out (verbs: a queue pair's
    /// retry window) raises it: silence within the window is not a lost peer; off stays off.
    @Test func theTimeOutRisesToOutlastRetransmissions() {
        var liveness = ConnectionLiveness(
            heartbeatInterval: .seconds(1), idleTimeout: .seconds(5), now: 10 * second)
        liveness.raiseIdleTimeout(toAtLeast: 5 * second + second / 2 + second)
        liveness.raiseIdleTimeout(toAtLeast: 2 * second)
        #expect(liveness.idleTimeout == 6 * second + second / 2)
        #expect(liveness.check(now: 16 * second) == .sendHeartbeat)
        #expect(liveness.check(now: 16 * second + second / 4) == .none)
        #expect(liveness.check(now: 16 * second + second / 2) == .peerLost(silentFor: 6 * second + second / 2))
        let reason = liveness.lostReason(silentFor: 7 * second)
        #expect(reason.contains("6500 ms (idle-timeout-ms, 5000 ms, raised to outlast"))
        var off = ConnectionLiveness(heartbeatInterval: .seconds(1), idleTimeout: .zero, now: 0)
        off.raiseIdleTimeout(toAtLeast: 9 * second)
        #expect(off.idleTimeout == 0)
    }

    @Test func zeroTurnsEitherOff() {
        var liveness = ConnectionLiveness(heartbeatInterval: .zero, idleTimeout: .zero, now: 0)
        #expect(liveness.isOff)
        #expect(liveness.check(now: 1000 * second) == .none)
        #expect(liveness.tickPeriod == .milliseconds(250))
        #expect(
            ConnectionLiveness(heartbeatInterval: .seconds(1), idleTimeout: .seconds(5), now: 0)
                .tickPeriod == .milliseconds(250))
        #expect(
            ConnectionLiveness(
                heartbeatInterval: .milliseconds(40), idleTimeout: .milliseconds(300), now: 0
            ).tickPeriod == .milliseconds(10))
    }

    @Test func theQuotaHoldsPlacesUntilTheyAreGivenBack() {
        let quota = ConnectionQuota(limit: 2)
        var first = QuotaPlace(quota)
        let second = QuotaPlace(quota)
        let firstTaken = first != nil
        let secondTaken = second != nil
        let thirdTaken = QuotaPlace(quota) != nil
        #expect(firstTaken && secondTaken && !thirdTaken)
        #expect(quota.current == 2)
        first = nil
        #expect(quota.current == 1)
        let again = QuotaPlace(quota) != nil
        #expect(again)
        // One line a second at most, counting the refusals left out.
        #expect(
            quota.refusalLog(listener: "l", peer: "a", now: 5 * self.second)?.contains("max-connections")
                == true)
        #expect(quota.refusalLog(listener: "l", peer: "b", now: 5 * self.second + 1) == nil)
        #expect(
            quota.refusalLog(listener: "l", peer: "c", now: 6 * self.second)?.contains("1 more") == true)
        _ = consume second
    }
}

/// A source that counts its ticks and the clock they came with.
private final class TickCounter: IOSource, @unchecked Sendable {
    let ticks = Atomic<Int>(0)
    let lastNow = Atomic<UInt64>(0)
    func tick(now: UInt64) {
        ticks.wrappingAdd(1, ordering: .relaxed)
        lastNow.store(now, ordering: .relaxed)
    }
}

extension IOThreadTests {
    @Test(arguments: [ProgressMode.sleep, .adaptive])
    func ticksReachSourcesWhileTheThreadSleeps(mode: ProgressMode) throws {
        let thread = try IOThread(name: "test-tick", progress: mode, spinWindow: .microseconds(10))
        defer { thread.shutdown() }
        let source = TickCounter()
        let registration = try thread.submitAndWait { () -> IORegistration in
            let registration = thread.register(source, pollsMemory: false)
            thread.startTicking(registration, every: .milliseconds(10))
            return registration
        }
        usleep(300_000)
        let ticked = source.ticks.load(ordering: .relaxed)
        // About 30; a loaded machine may lose some, never all.
        #expect(ticked >= 5 && ticked <= 40, "ticked \(ticked) times in 300 ms at a 10 ms period")
        let clock = try thread.submitAndWait { thread.now }
        #expect(clock >= source.lastNow.load(ordering: .relaxed) && clock > 0)
        thread.submitAndWait { thread.deregister(registration) }
        let after = source.ticks.load(ordering: .relaxed)
        usleep(50_000)
        #expect(source.ticks.load(ordering: .relaxed) == after, "a deregistered source ticks no more")
    }
}
