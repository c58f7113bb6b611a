import WeftCore

/// A request's bytes while its call is being served: the received frame, borrowed in
/// place, until the arguments are decoded. Holding the frame pauses its connection, so a
/// call that has to wait (activation, a busy non-reentrant actor) first `detach`es: one
/// copy into memory of its own, and the frame goes back at once.
final class CallPayload: @unchecked Sendable {
    private var frame: ReceivedFrame?
    private var owned: UnsafeMutableRawPointer?
    private(set) var base: UnsafeRawPointer
    let count: Int
    let header: FrameHeader
    /// Set when an argument failed to decode: the reply then says `badArguments`, whichever
    /// way the error comes back (thrown out of the call, or through the result handler).
    var decodeFailure: (any Error)?
    /// The connection's count of unanswered calls and its queue of replies that waited.
    let calls: IncomingCalls
    /// Set when the reply was queued: the queue, not the call's end, then answers it.
    var replyQueued = false
    /// The request resolved through its connection's handles, in frame order on the IO
    /// thread (`IncomingCallHandles`); nil with `malformed` set when it did not parse.
    var call: IncomingCall?
    var malformed: BinaryCodingError?

    init(_ frame: consuming ReceivedFrame, calls: IncomingCalls) {
        base = frame.payloadBaseAddress
        count = frame.count
        header = frame.header
        self.calls = calls
        self.frame = consume frame
    }

    deinit { owned?.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// True while the bytes are still the frame's (not copied).
    var isBorrowed: Bool { owned == nil }

    /// Copies the bytes out and gives the frame back (slow paths only).
    func detach() {
        guard owned == nil, frame != nil else { return }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 8)
        if count > 0 { copy.copyMemory(from: base, byteCount: count) }
        owned = copy
        base = UnsafeRawPointer(copy)
        frame = nil
    }

    /// Gives the frame back; the bytes stay readable only if they were detached.
    func release() { frame = nil }
}
