/// Room for several frames in a row, reserved with one call and published with one `commit`:
/// what a one-way stream of small messages needs, where one reservation per frame would cost
/// more than writing the frame. Frames are appended back to back (each written in place,
/// header first); none is visible to the peer before `commit`, and dropping the batch sends
/// none of them.
///
/// Between `reserveBatch` and `commit` the connection's send side is held, as with
/// `SendReservation`: append and commit without suspending in between.
@frozen
public struct SendBatch: ~Copyable {
    /// How the transport lays out records, and how a batch goes back to it.
    public struct Layout: Sendable {
        /// Bytes in front of each frame (a ring record's tag).
        public let recordPrefix: Int
        /// Records start on multiples of this (a power of two).
        public let recordAlignment: Int
        /// Publishes `bytes` bytes of records from `start` (headers written) in one go.
        public let commit:
            @convention(c) (
                _ context: UnsafeMutableRawPointer, _ start: UnsafeMutableRawPointer, _ token: UInt64, _ bytes: Int
            ) -> Void

        public init(
            recordPrefix: Int, recordAlignment: Int,
            commit: @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer, UInt64, Int) -> Void
        ) {
            self.recordPrefix = recordPrefix
            self.recordAlignment = recordAlignment
            self.commit = commit
        }
    }

    @usableFromInline let start: UnsafeMutableRawPointer
    @usableFromInline let room: Int
    /// Largest payload of one frame: what the reservation was asked for.
    @usableFromInline let capacity: Int
    @usableFromInline let token: UInt64
    @usableFromInline let hooks: ReservationHooks
    /// nil: a single reservation (transports without batches), committed through `hooks`.
    @usableFromInline let layout: Layout?
    @usableFromInline var used = 0
    @usableFromInline var frames = 0
    @usableFromInline var lastLength: UInt32 = 0

    /// A run of records: `room` bytes from `start` for frames of up to `capacity` payload
    /// bytes each, published by `layout.commit`.
    @inlinable
    public init(
        start: UnsafeMutableRawPointer, room: Int, capacity: Int, token: UInt64, hooks: ReservationHooks, layout: Layout
    ) {
        self.start = start
        self.room = room
        self.capacity = capacity
        self.token = token
        self.hooks = hooks
        self.layout = layout
    }

    /// One frame's reservation as a batch of at most one frame.
    @inlinable
    public init(single reservation: consuming SendReservation) {
        let parts = reservation.parts()
        start = parts.frame
        room = FrameLayout.headerSize + parts.capacity
        capacity = parts.capacity
        token = parts.token
        hooks = parts.hooks
        layout = nil
    }

    /// Frames appended so far.
    @inlinable public var count: Int { frames }

    /// Appends a frame carrying `length` payload bytes: writes its header and returns where the
    /// payload goes (exactly `length` bytes may be written there), or nil when the batch has
    /// no room left for it (commit, then reserve another batch). `length` may not exceed the
    /// capacity the batch was reserved with (the peer's frame limit is behind it).
    @inlinable @inline(__always)
    public mutating func append(
        kind: MessageKind, length: Int, channel: UInt32 = 0, correlation: UInt64 = 0, flags: FrameFlags = []
    ) -> UnsafeMutableRawPointer? {
        precondition(length >= 0 && length <= capacity, "frame longer than the batch's capacity")
        let frame: UnsafeMutableRawPointer
        if let layout {
            let mask = layout.recordAlignment - 1
            let size = (layout.recordPrefix + FrameLayout.headerSize + length + mask) & ~mask
            guard size <= room - used else { return nil }
            frame = start + used + layout.recordPrefix
            used += size
        } else {
            guard frames == 0, FrameLayout.headerSize + length <= room else { return nil }
            frame = start
            used = FrameLayout.headerSize + length
            lastLength = UInt32(length)
        }
        FrameHeader(kind: kind, flags: flags, payloadLength: UInt32(length), channel: channel, correlation: correlation)
            .encode(to: frame)
        frames += 1
        return frame + FrameLayout.headerSize
    }

    /// Publishes every appended frame, in order.
    @inlinable
    public consuming func commit() {
        if frames > 0 {
            if let layout {
                layout.commit(hooks.context, start, token, used)
            } else {
                hooks.commit(hooks.context, start, token, lastLength)
            }
            discard self
            return
        }
        hooks.abandon(hooks.context, token)
        discard self
    }

    @inlinable
    deinit { hooks.abandon(hooks.context, token) }
}
