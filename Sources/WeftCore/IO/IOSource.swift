/// What an IO source says when its thread is about to sleep.
package enum SleepReadiness: Sendable {
    /// Wake-ups are armed (the peer will signal a registered descriptor).
    case armed
    /// Work arrived meanwhile: do not sleep.
    case busy
    /// Cannot arm a wake-up (for example a frame is still held): poll again after this many ms.
    case pollAgain(milliseconds: Int32)
}

/// Something an IO thread drives: a connection, a listener, a ring.
/// Every method is called on the owning IO thread only.
package protocol IOSource: AnyObject {
    /// Handles whatever is ready in memory without blocking; returns how much work was done.
    /// Called on every loop turn for sources registered with `pollsMemory`.
    func poll() -> Int
    /// A descriptor this source watches became ready (`events` are epoll bits).
    func descriptorReady(token: UInt32, events: UInt32)
    /// The thread is going to sleep; memory-polled sources arm their wake-up here.
    func prepareToSleep() -> SleepReadiness
    /// The thread woke up; disarm what `prepareToSleep` armed.
    func didWake()
    /// Pushes out output coalesced during the last batch.
    func flush()
    /// A direct entry point for `poll()` (see `PollHook`); nil: the loop calls `poll()`.
    var pollHook: PollHook? { get }
    /// The period asked for with `IOThread.startTicking` passed: check time limits
    /// (heartbeats, a silent peer, a handshake that takes too long). `now` is the thread's clock.
    func tick(now: UInt64)
}

extension IOSource {
    public func poll() -> Int { 0 }
    public func descriptorReady(token: UInt32, events: UInt32) {}
    public func prepareToSleep() -> SleepReadiness { .armed }
    public func didWake() {}
    public func flush() {}
    public var pollHook: PollHook? { nil }
    public func tick(now: UInt64) {}
}

/// epoll interest bits, named.
package struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = IOEvents(rawValue: 0x001)  // EPOLLIN
    public static let writable = IOEvents(rawValue: 0x004)  // EPOLLOUT
    public static let error = IOEvents(rawValue: 0x008)  // EPOLLERR
    public static let hangup = IOEvents(rawValue: 0x010)  // EPOLLHUP
    public static let peerHangup = IOEvents(rawValue: 0x2000)  // EPOLLRDHUP
}
