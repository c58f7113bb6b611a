import WeftCore

/// Writes one message straight into a send reservation; when it does not fit, encodes it
/// again into a growable buffer and sends it with `send(_:header:)`, which fragments.
enum FrameSender {
    static func send(
        on connection: any TransportConnection, header: FrameHeader, deadline: ContinuousClock.Instant,
        preferredReservation: Int, _ body: (inout BinaryWriter) throws -> Void
    ) throws {
        let first = max(min(connection.maxReservation, preferredReservation), 0)
        let reservation = try FragmentingSender.reserve(first, on: connection, until: deadline)
        var writer = BinaryWriter(fixed: reservation.payload)
        var fits = true
        do { try body(&writer) } catch BinaryCodingError.overflow { fits = false }
        if fits {
            var frame = header
            frame.payloadLength = UInt32(writer.count)
            reservation.commit(frame)
            return
        }
        _ = consume reservation
        var growable = BinaryWriter(growable: first * 2)
        defer { growable.deallocate() }
        try body(&growable)
        let remaining = deadline - ContinuousClock.now
        try connection.send(growable.bytes, header: header, timeout: remaining > .zero ? remaining : .zero)
    }
}
