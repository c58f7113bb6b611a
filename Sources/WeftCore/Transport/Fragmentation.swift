#if canImport(Glibc)
    import Glibc
#endif

/// Sends a message of any size up to the limit, fragmenting it when it is larger than
/// one reservation. Fragments carry `FrameFlags.fragment`, every one but the last
/// `moreFragments`, and the whole length in `messageLength`.
///
/// The caller must keep other large messages off the connection meanwhile (fragments of
/// two messages must not interleave; single-frame messages may).
package enum FragmentingSender {
    public static func send(
        _ payload: UnsafeRawBufferPointer, header: FrameHeader, on connection: any TransportConnection,
        maxMessage: Int, waitUntil deadline: ContinuousClock.Instant?
    ) throws(TransportError) {
        guard payload.count <= maxMessage else {
            throw .messageTooLarge(size: payload.count, limit: maxMessage)
        }
        let chunk = max(connection.maxReservation, 1)
        if payload.count <= chunk {
            var reservation = try reserve(payload.count, on: connection, until: deadline)
            copy(payload, into: &reservation)
            var frameHeader = header
            frameHeader.payloadLength = UInt32(payload.count)
            reservation.commit(frameHeader)
            return
        }
        var offset = 0
        while offset < payload.count {
            let length = min(chunk, payload.count - offset)
            var reservation: SendReservation
            do { reservation = try reserve(length, on: connection, until: deadline) } catch {
                guard offset > 0 else { throw error }
                // Half a message is on the wire and the rest cannot follow: the stream of
                // fragments would be corrupt, so the connection ends here, in order.
                connection.close()
                throw .closed(reason: "a \(payload.count)-byte message could not be finished (\(error)); connection closed")
            }
            copy(UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + length)]), into: &reservation)
            reservation.commit(fragment(of: header, length: length, at: offset, total: payload.count))
            offset += length
        }
    }

    /// The header of the fragment that carries `length` bytes at `offset` of a `total`-byte message.
    public static func fragment(of header: FrameHeader, length: Int, at offset: Int, total: Int) -> FrameHeader {
        var fragment = header
        fragment.payloadLength = UInt32(length)
        fragment.messageLength = UInt32(total)
        fragment.flags.insert(.fragment)
        if offset + length < total { fragment.flags.insert(.moreFragments) }
        return fragment
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer, into reservation: inout SendReservation) {
        if let source = bytes.baseAddress, bytes.count > 0 {
            reservation.payload.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// Reserves, waiting for the peer to drain until `deadline` (nil: do not wait).
    /// Never waits on the connection's own IO thread, which must keep draining.
    public static func reserve(
        _ capacity: Int, on connection: any TransportConnection, until deadline: ContinuousClock.Instant?
    ) throws(TransportError) -> SendReservation {
        var backoff = Backoff()
        while true {
            do {
                return try connection.reserve(capacity: capacity)
            } catch .wouldBlock {
                guard let deadline, !connection.ioThread.isCurrent else { throw .wouldBlock }
                if ContinuousClock.now >= deadline { throw .timedOut("waiting for send space on \(connection.id)") }
                backoff.pause()
            }
        }
    }
}

/// Spin, then yield, then sleep in growing steps up to 100 µs (slow paths only).
public struct Backoff {
    private var round = 0
    public init() {}
    public mutating func pause() {
        round += 1
        if round < 64 { return }
        if round < 128 {
            sched_yield()
            return
        }
        var request = timespec(tv_sec: 0, tv_nsec: min(100_000, (round - 127) * 1_000))
        nanosleep(&request, nil)
    }
}
