/// How long an idle IO thread in `adaptive` mode keeps polling before it sleeps.
///
/// A fixed window (`spin-window-us`) sleeps through every gap longer than itself, so a
/// request/response exchange whose round trip is a little longer than the window pays a
/// wake-up on every message, on both sides. With a limit above the window, the thread learns
/// the typical idle gap (how long it waited before work came: a moving average, 1/8 per
/// gap) and spins for one and a half times that, up to the limit. Gaps longer than the limit
/// are not worth spinning through, and the window falls back to its base. Pure arithmetic:
/// the IO loop reads the clock once when work ends an idle gap, and only when learning.
package struct AdaptiveSpinWindow: Sendable {
    package let base: UInt64
    package let limit: UInt64
    /// The window now, in nanoseconds.
    package private(set) var current: UInt64
    /// The moving average of idle gaps (nanoseconds); 0 until the first one.
    package private(set) var typicalGap: UInt64 = 0

    /// `base` and `limit` in nanoseconds; a limit at or below the base keeps the window fixed.
    package init(base: UInt64, limit: UInt64) {
        self.base = base
        self.limit = limit
        current = base
    }

    package var learns: Bool { limit > base }

    /// Work ended an idle gap of `gap` nanoseconds (spun through or slept through).
    package mutating func idleGapEnded(lasting gap: UInt64) {
        guard learns else { return }
        let counted = min(gap, limit &* 2)
        typicalGap = typicalGap == 0 ? counted : typicalGap - typicalGap / 8 + counted / 8
        let wanted = typicalGap + typicalGap / 2
        current = typicalGap <= limit ? min(limit, max(base, wanted)) : base
    }
}
