import Testing

@testable import WeftCore

/// The adaptive spin window learns the idle gaps between messages, within its bounds.
@Suite struct AdaptiveSpinWindowTests {
    let microsecond: UInt64 = 1_000

    /// A ping-pong whose round trip is longer than the base window: after a few gaps the
    /// window covers it (1.5 times the gap), so the thread spins through instead of sleeping.
    @Test func learnsAGapLongerThanTheBase() {
        var window = AdaptiveSpinWindow(base: 100 * microsecond, limit: 1_000 * microsecond)
        for _ in 0..<32 { window.idleGapEnded(lasting: 300 * microsecond) }
        #expect(window.current >= 440 * microsecond && window.current <= 450 * microsecond)
    }

    /// Gaps past the limit are not worth spinning through: the window stays at its base.
    @Test func longGapsKeepTheBase() {
        var window = AdaptiveSpinWindow(base: 100 * microsecond, limit: 1_000 * microsecond)
        for _ in 0..<32 { window.idleGapEnded(lasting: 50_000 * microsecond) }
        #expect(window.current == 100 * microsecond)
    }

    /// Short gaps (fast hardware) never shrink the window below its base, nor does the
    /// window pass its limit for gaps just under it.
    @Test func staysWithinItsBounds() {
        var window = AdaptiveSpinWindow(base: 100 * microsecond, limit: 1_000 * microsecond)
        for _ in 0..<32 { window.idleGapEnded(lasting: 2 * microsecond) }
        #expect(window.current == 100 * microsecond)
        for _ in 0..<64 { window.idleGapEnded(lasting: 900 * microsecond) }
        #expect(window.current == 1_000 * microsecond)
    }

    /// A limit at or below the base keeps the window fixed (what tests and `spin-window-limit-us 0` ask for).
    @Test func noLimitNoLearning() {
        var window = AdaptiveSpinWindow(base: 100 * microsecond, limit: 0)
        #expect(!window.learns)
        window.idleGapEnded(lasting: 300 * microsecond)
        #expect(window.current == 100 * microsecond)
    }
}
