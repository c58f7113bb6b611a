/// When a connection sends a heartbeat and when it gives up on a silent peer (IO thread).
///
/// A connection stamps `lastHeard` with its IO thread's clock (`IOThread.now`) whenever
/// anything arrives, and `lastSent` whenever it sees its own output move; its `tick`
/// asks `check`. After `heartbeatInterval` without sending, the connection sends a
/// `heartbeat` frame, so a healthy but idle peer is never mistaken for a lost one; after
/// `idleTimeout` without hearing anything, the peer is lost (a silent partition, a hung or
/// stopped process): the connection closes with `peerLost`.
package struct ConnectionLiveness: Sendable {
    /// Nanoseconds; 0: never.
    public let heartbeatInterval: UInt64
    /// Nanoseconds; 0: never.
    public private(set) var idleTimeout: UInt64
    /// The configured idle time-out when `raiseIdleTimeout` raised it; 0 otherwise.
    public private(set) var configuredIdleTimeout: UInt64 = 0
    public private(set) var lastHeard: UInt64
    public private(set) var lastSent: UInt64

    public enum Action: Equatable, Sendable {
        case none
        case sendHeartbeat
        /// Nothing heard for this many nanoseconds.
        case peerLost(silentFor: UInt64)
    }

    public init(heartbeatInterval: Duration, idleTimeout: Duration, now: UInt64) {
        self.heartbeatInterval = heartbeatInterval.wholeNanoseconds
        self.idleTimeout = idleTimeout.wholeNanoseconds
        lastHeard = now
        lastSent = now
    }

    public init(context: TransportContext, now: UInt64) {
        self.init(
            heartbeatInterval: context.heartbeatInterval, idleTimeout: context.idleTimeout, now: now)
    }

    /// True when neither heartbeats nor the idle time-out are on: the connection need not tick.
    public var isOff: Bool { heartbeatInterval == 0 && idleTimeout == 0 }

    /// How often the connection should tick: often enough to keep both limits within
    /// about a tenth of their value, rarely enough to cost nothing (5 ms to 250 ms).
    public var tickPeriod: Duration {
        var shortest: UInt64 = 250_000_000
        if heartbeatInterval > 0 { shortest = Swift.min(shortest, heartbeatInterval / 4) }
        if idleTimeout > 0 { shortest = Swift.min(shortest, idleTimeout / 10) }
        return .nanoseconds(Int64(Swift.max(shortest, 5_000_000)))
    }

    @inline(__always)
    public mutating func heard(at now: UInt64) { lastHeard = now }

    @inline(__always)
    public mutating func sent(at now: UInt64) { lastSent = now }

    /// What is due at `now`. A heartbeat counts as sent once asked for.
    public mutating func check(now: UInt64) -> Action {
        if idleTimeout != 0 && now &- lastHeard >= idleTimeout && now >= lastHeard {
            return .peerLost(silentFor: now &- lastHeard)
        }
        if heartbeatInterval != 0 && now >= lastSent && now &- lastSent >= heartbeatInterval {
            lastSent = now
            return .sendHeartbeat
        }
        return .none
    }

    /// Raises the idle time-out to at least `floor` nanoseconds, for a transport whose own
    /// retransmissions may hold the peer's frames back that long (a peer heard late is not
    /// lost: the transport fails by itself when its retries run out). Off stays off.
    public mutating func raiseIdleTimeout(toAtLeast floor: UInt64) {
        guard idleTimeout != 0, floor > idleTimeout else { return }
        if configuredIdleTimeout == 0 { configuredIdleTimeout = idleTimeout }
        idleTimeout = floor
    }

    /// The reason a silent peer was dropped, in one sentence.
    public func lostReason(silentFor nanoseconds: UInt64) -> String {
        let limit =
            configuredIdleTimeout == 0
            ? "the idle time-out of \(Self.milliseconds(idleTimeout)) ms (idle-timeout-ms)"
            : "the idle time-out of \(Self.milliseconds(idleTimeout)) ms (idle-timeout-ms, \(Self.milliseconds(configuredIdleTimeout)) ms,"
                + " raised to outlast the transport's own retransmissions)"
        return "nothing heard from the peer for \(Self.milliseconds(nanoseconds)) ms, past \(limit):"
            + " presumed lost (partition, hung or stopped process)"
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> UInt64 { nanoseconds / 1_000_000 }
}
