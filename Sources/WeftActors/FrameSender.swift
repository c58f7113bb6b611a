import WeftCore

/// Writes one message straight into a send reservation; when it does not fit, encodes it
/// again into a growable buffer and sends it with `send(_:header:)`, which fragments.
///
/// Requests: on the connection's own IO thread (a call made there, see `IOThreadExecutor`)
/// the thread must not wait for send space: a full ring, or a message that needs
/// fragments, is encoded into a buffer and sent by a detached task instead (the slow
/// path); elsewhere the caller waits, which is its back-pressure. Replies never wait on
/// any thread (`sendReply`): what does not go out at once is queued on the connection.
enum FrameSender {
    /// Returns true when the message went out in order: committed, or sent whole, before
    /// returning; false when a detached task sends it later.
    @discardableResult
    static func send(
        on connection: any TransportConnection, header: FrameHeader, deadline: ContinuousClock.Instant,
        preferredReservation: Int, _ body: (inout BinaryWriter) throws -> Void
    ) throws -> Bool {
        let first = max(min(connection.maxReservation, preferredReservation), 0)
        let onIOThread = connection.ioThread.isCurrent
        guard let reservation = try reserve(first, on: connection, until: deadline, onIOThread: onIOThread) else {
            try sendLater(on: connection, header: header, deadline: deadline, capacity: first, body)
            return false
        }
        if try encode(into: reservation, header: header, body) { return true }
        if onIOThread {
            try sendLater(on: connection, header: header, deadline: deadline, capacity: first, body)
            return false
        }
        var growable = BinaryWriter(growable: first * 2)
        defer { growable.deallocate() }
        try body(&growable)
        let remaining = deadline - ContinuousClock.now
        try connection.send(growable.bytes, header: header, timeout: remaining > .zero ? remaining : .zero)
        return true
    }

    /// A reply, from any thread, never waiting: written in place when the connection has
    /// space now and it fits one reservation, else encoded and queued on `calls`, which
    /// sends it from the IO thread. Returns true when it was queued.
    static func sendReply(
        on connection: any TransportConnection, header: FrameHeader, calls: IncomingCalls, preferredReservation: Int,
        _ body: (inout BinaryWriter) throws -> Void
    ) throws -> Bool {
        let first = max(min(connection.maxReservation, preferredReservation), 0)
        do {
            if try encode(into: try connection.reserve(capacity: first), header: header, body) { return false }
        } catch TransportError.wouldBlock {
            connection.flush()
        }
        var growable = BinaryWriter(growable: max(first * 2, 64))
        defer { growable.deallocate() }
        try body(&growable)
        // Refused here, as `send` would: the peer would close the whole connection for it.
        guard growable.count <= connection.maxMessageSize else {
            throw TransportError.messageTooLarge(size: growable.count, limit: connection.maxMessageSize)
        }
        calls.queue([UInt8](growable.bytes), header: header, on: connection)
        return true
    }

    /// Encodes into the reservation and commits it; false (nothing sent) when it did not fit.
    private static func encode(
        into reservation: consuming SendReservation, header: FrameHeader, _ body: (inout BinaryWriter) throws -> Void
    ) throws -> Bool {
        var writer = BinaryWriter(fixed: reservation.payload)
        do { try body(&writer) } catch BinaryCodingError.overflow { return false }
        var frame = header
        frame.payloadLength = UInt32(writer.count)
        reservation.commit(frame)
        return true
    }

    /// A reservation, or nil when the ring is full and this is the connection's IO thread
    /// (which must not wait).
    private static func reserve(
        _ capacity: Int, on connection: any TransportConnection, until deadline: ContinuousClock.Instant, onIOThread: Bool
    ) throws(TransportError) -> SendReservation? {
        do { return try FragmentingSender.reserve(capacity, on: connection, until: deadline) } catch {
            if case .wouldBlock = error, onIOThread { return nil }
            throw error
        }
    }

    /// Encodes now, sends from a detached task that may wait for space. A send that fails
    /// there leaves the call to its time-out or to its connection's end.
    private static func sendLater(
        on connection: any TransportConnection, header: FrameHeader, deadline: ContinuousClock.Instant,
        capacity: Int, _ body: (inout BinaryWriter) throws -> Void
    ) throws {
        var growable = BinaryWriter(growable: max(capacity * 2, 64))
        defer { growable.deallocate() }
        try body(&growable)
        let bytes = [UInt8](growable.bytes)
        Task.detached {
            let remaining = deadline - ContinuousClock.now
            try? bytes.withUnsafeBytes { buffer in
                try connection.send(buffer, header: header, timeout: remaining > .zero ? remaining : .zero)
            }
        }
    }
}
