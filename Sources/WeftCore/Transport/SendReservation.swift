/// Where a reservation goes back to: the transport's commit and abandon entry points as C
/// functions with an unretained context. A commit then costs no reference count and no
/// witness-table call: the context is the connection, which outlives its reservations.
public struct ReservationHooks: @unchecked Sendable {
    public let context: UnsafeMutableRawPointer
    /// Publishes the frame at `frame` (header already written) whose payload is `length` bytes.
    public let commit:
        @convention(c) (
            _ context: UnsafeMutableRawPointer, _ frame: UnsafeMutableRawPointer, _ token: UInt64, _ length: UInt32
        ) -> Void
    /// Gives the space back unpublished.
    public let abandon: @convention(c) (_ context: UnsafeMutableRawPointer, _ token: UInt64) -> Void

    public init(
        context: UnsafeMutableRawPointer,
        commit: @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer, UInt64, UInt32) -> Void,
        abandon: @convention(c) (UnsafeMutableRawPointer, UInt64) -> Void
    ) {
        self.context = context
        self.commit = commit
        self.abandon = abandon
    }
}

/// Space for one frame, reserved in transport-owned memory (a ring slot, a send buffer,
/// a registered region). Write the payload in place, then `commit`; dropping it sends nothing.
///
/// Between `reserve` and `commit` the connection's send side is held: reserve, write, commit
/// without suspending in between.
@frozen
public struct SendReservation: ~Copyable {
    @usableFromInline let frame: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline let token: UInt64
    @usableFromInline let hooks: ReservationHooks

    @inlinable
    public init(frame: UnsafeMutableRawPointer, capacity: Int, token: UInt64, hooks: ReservationHooks) {
        self.frame = frame
        self.capacity = capacity
        self.token = token
        self.hooks = hooks
    }

    /// Bytes the payload may use.
    @inlinable public var payloadCapacity: Int { capacity }

    /// Where the payload goes: right after the 32-byte header, 8-byte aligned.
    @inlinable
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: frame + FrameLayout.headerSize, count: capacity)
    }

    /// Publishes the frame with `header`, whose `payloadLength` says how many payload bytes were written.
    @inlinable @inline(__always)
    public consuming func commit(_ header: FrameHeader) {
        precondition(Int(header.payloadLength) <= capacity, "payload longer than the reservation")
        header.encode(to: frame)
        hooks.commit(hooks.context, frame, token, header.payloadLength)
        discard self
    }

    /// Publishes a frame of `kind` carrying the first `length` payload bytes. Bytes written
    /// past `length` are not part of the frame, and must not be written: in a ring they may
    /// lie where the next record starts.
    @inlinable @inline(__always)
    public consuming func commit(
        kind: MessageKind, length: Int, channel: UInt32 = 0, correlation: UInt64 = 0, flags: FrameFlags = []
    ) {
        commit(
            FrameHeader(
                kind: kind, flags: flags, payloadLength: UInt32(length), channel: channel, correlation: correlation))
    }

    /// Its fields, the reservation consumed without an abandon (it lives on in a `SendBatch`).
    @inlinable
    consuming func parts() -> (frame: UnsafeMutableRawPointer, capacity: Int, token: UInt64, hooks: ReservationHooks) {
        let parts = (frame, capacity, token, hooks)
        discard self
        return parts
    }

    @inlinable
    deinit { hooks.abandon(hooks.context, token) }
}
