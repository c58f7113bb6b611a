/// The side of a connection that hands out and takes back send space.
/// Transports implement it; users go through `SendReservation`.
public protocol ReservationOwner: AnyObject {
    /// Publishes the frame whose header starts at `frame`; `header.payloadLength` bytes were written.
    func commitReservation(frame: UnsafeMutableRawPointer, token: UInt64, header: FrameHeader)
    /// Gives the space back unpublished.
    func abandonReservation(token: UInt64)
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
    @usableFromInline unowned(unsafe) let owner: any ReservationOwner

    @inlinable
    public init(frame: UnsafeMutableRawPointer, capacity: Int, token: UInt64, owner: any ReservationOwner) {
        self.frame = frame
        self.capacity = capacity
        self.token = token
        self.owner = owner
    }

    /// Bytes the payload may use.
    @inlinable public var payloadCapacity: Int { capacity }

    /// Where the payload goes: right after the 32-byte header, 8-byte aligned.
    @inlinable
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: frame + FrameLayout.headerSize, count: capacity)
    }

    /// Publishes the frame with `header`, whose `payloadLength` says how many payload bytes were written.
    @inlinable
    public consuming func commit(_ header: FrameHeader) {
        precondition(Int(header.payloadLength) <= capacity, "payload longer than the reservation")
        header.encode(to: frame)
        owner.commitReservation(frame: frame, token: token, header: header)
        discard self
    }

    /// Publishes a frame of `kind` carrying the first `length` payload bytes.
    @inlinable
    public consuming func commit(
        kind: MessageKind, length: Int, channel: UInt32 = 0, correlation: UInt64 = 0, flags: FrameFlags = []
    ) {
        commit(
            FrameHeader(
                kind: kind, flags: flags, payloadLength: UInt32(length), channel: channel, correlation: correlation))
    }

    deinit { owner.abandonReservation(token: token) }
}
