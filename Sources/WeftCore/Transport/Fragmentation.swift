#if canImport(Glibc)
import Glibc
#endif

/// Sends a message of any size up to the limit, fragmenting it when it is larger than
/// one reservation. Fragments carry `FrameFlags.fragment`, every one but the last
/// `moreFragments`, and the whole length in `messageLength`.
///
/// The caller must keep other large messages off the connection meanwhile (fragments of
/// two messages must not interleave; single-frame messages may).
public enum FragmentingSender {
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
            var fragment = header
            fragment.payloadLength = UInt32(length)
            fragment.messageLength = UInt32(payload.count)
            fragment.flags.insert(.fragment)
            if offset + length < payload.count { fragment.flags.insert(.moreFragments) }
            reservation.commit(fragment)
            offset += length
        }
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

/// Reassembles one fragmented message per connection into a buffer the connection owns
/// (the one copy a fragmented message costs). Single-frame messages never pass through it.
public struct FragmentAssembler: ~Copyable {
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0
    private var filled = 0
    private var first: FrameHeader?
    public let limits: FrameLimits

    public init(limits: FrameLimits) { self.limits = limits }

    deinit { buffer?.deallocate() }

    /// Adds one fragment; returns the whole message's header when it is complete
    /// (its bytes are then at `messageBytes` until the next fragment arrives).
    public mutating func append(
        _ header: FrameHeader, payload: UnsafeRawPointer
    ) throws(FrameError) -> FrameHeader? {
        let total = Int(header.messageLength)
        if let started = first {
            guard started.kind == header.kind, started.correlation == header.correlation,
                started.channel == header.channel, started.messageLength == header.messageLength
            else { throw .fragmentInconsistent }
        } else {
            guard total <= Int(limits.maxMessage) else { throw .tooLong(length: total, limit: Int(limits.maxMessage)) }
            if capacity < total {
                buffer?.deallocate()
                buffer = .allocate(byteCount: max(total, 64), alignment: FrameLayout.alignment)
                capacity = max(total, 64)
            }
            first = header
            filled = 0
        }
        let length = Int(header.payloadLength)
        guard filled + length <= total else { throw .fragmentInconsistent }
        if length > 0 { (buffer! + filled).copyMemory(from: payload, byteCount: length) }
        filled += length
        if header.flags.contains(.moreFragments) { return nil }
        guard filled == total else { throw .fragmentInconsistent }
        var whole = first!
        whole.flags.subtract([.fragment, .moreFragments])
        whole.payloadLength = UInt32(total)
        whole.messageLength = 0
        first = nil
        return whole
    }

    public var messageBytes: UnsafeRawPointer { UnsafeRawPointer(buffer ?? UnsafeMutableRawPointer(bitPattern: 8)!) }
    public var isAssembling: Bool { first != nil }
}

/// Spin, then yield, then sleep in growing steps up to 100 µs (slow paths only).
public struct Backoff {
    private var round = 0
    public init() {}
    public mutating func pause() {
        round += 1
        if round < 64 { return }
        if round < 128 { sched_yield(); return }
        var request = timespec(tv_sec: 0, tv_nsec: min(100_000, (round - 127) * 1_000))
        nanosleep(&request, nil)
    }
}
