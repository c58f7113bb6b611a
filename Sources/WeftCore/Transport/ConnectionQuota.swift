import Synchronization

/// The connections one listener holds (handshaking or open) against its cap
/// (`max-connections`): a listener at its cap refuses the next peer at once, with one log
/// sentence, and keeps serving the others. Each admitted connection gives its place back
/// exactly once, when it ends (any thread).
package final class ConnectionQuota: Sendable {
    public let limit: Int
    private let count = Atomic<Int>(0)
    private let lastReported = Atomic<UInt64>(0)
    private let unreported = Atomic<Int>(0)

    public init(limit: Int) { self.limit = limit }

    /// Takes a place; false when the listener is at its cap.
    public func acquire() -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = count.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    public func release() { count.subtract(1, ordering: .acquiringAndReleasing) }

    public var current: Int { count.load(ordering: .relaxed) }

    /// The reason a refused peer is given (in a close frame, where the transport has one).
    public var refusalReason: String {
        "the listener already holds \(limit) connections, the most max-connections allows"
    }

    /// The log sentence for a refused peer, or nil to keep a flood of refusals to one line a
    /// second per listener (the next line counts the ones left out). `now`: monotonic ns.
    public func refusalLog(listener: String, peer: String, now: UInt64) -> String? {
        let last = lastReported.load(ordering: .relaxed)
        guard last == 0 || now &- last >= 1_000_000_000,
            lastReported.compareExchange(expected: last, desired: max(now, 1), ordering: .relaxed)
                .exchanged
        else {
            unreported.add(1, ordering: .relaxed)
            return nil
        }
        let skipped = unreported.exchange(0, ordering: .relaxed)
        return "listener \(listener) refused a connection from \(peer): \(refusalReason)"
            + (skipped > 0 ? " (and \(skipped) more since the last report)" : "")
    }
}

/// A place in a `ConnectionQuota`, given back once (by the connection's end, or its failed setup).
package struct QuotaPlace: ~Copyable, Sendable {
    private let quota: ConnectionQuota

    public init?(_ quota: ConnectionQuota) {
        guard quota.acquire() else { return nil }
        self.quota = quota
    }

    deinit { quota.release() }
}
