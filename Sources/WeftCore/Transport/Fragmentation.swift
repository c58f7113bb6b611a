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
///
/// Memory follows the bytes, not the declared length: the buffer starts at a little more
/// than the first fragment and doubles as fragments arrive, each growth drawn from the
/// process's `ReassemblyPool`; once the whole message was delivered and released,
/// `releaseIdleMemory()` gives back a buffer larger than `ReassemblyLimits.retainedBytes`.
package struct FragmentAssembler: ~Copyable {
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0
    private var filled = 0
    private var first: FrameHeader?
    public let limits: FrameLimits
    public let reassembly: ReassemblyLimits

    public init(limits: FrameLimits, reassembly: ReassemblyLimits = ReassemblyLimits()) {
        self.limits = limits
        self.reassembly = reassembly
    }

    deinit {
        if let buffer {
            buffer.deallocate()
            reassembly.pool.giveBack(capacity)
        }
    }

    /// The largest message this assembler takes: `max-message-bytes` and the per-connection bound.
    public var maxMessage: Int { min(Int(limits.maxMessage), reassembly.connectionBytes) }

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
            guard total <= maxMessage else { throw .tooLong(length: total, limit: maxMessage) }
            first = header
            filled = 0
        }
        let length = Int(header.payloadLength)
        guard filled + length <= total else { throw .fragmentInconsistent }
        if filled + length > capacity { try grow(toHold: filled + length, of: total) }
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

    /// Makes room for `needed` bytes of a `total`-byte message: at least double, at most the total.
    private mutating func grow(toHold needed: Int, of total: Int) throws(FrameError) {
        let target = min(total, max(needed, capacity * 2, 64 << 10))
        guard reassembly.pool.take(target - capacity) else {
            throw .reassemblyOverBudget(need: target - capacity, limit: reassembly.pool.limit)
        }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: max(target, 64), alignment: FrameLayout.alignment)
        if let buffer {
            if filled > 0 { grown.copyMemory(from: buffer, byteCount: filled) }
            buffer.deallocate()
        }
        buffer = grown
        capacity = target
    }

    /// Gives a large buffer back between messages. Call only once the last assembled
    /// message was released (its bytes live in this buffer until then).
    public mutating func releaseIdleMemory() {
        if capacity > ReassemblyLimits.retainedBytes && first == nil { release() }
    }

    /// Drops a message left half-assembled (its connection ended) and its memory.
    public mutating func abandonPartialMessage() {
        guard first != nil else { return }
        first = nil
        release()
    }

    private mutating func release() {
        guard let buffer else { return }
        buffer.deallocate()
        self.buffer = nil
        reassembly.pool.giveBack(capacity)
        capacity = 0
    }

    public var messageBytes: UnsafeRawPointer { UnsafeRawPointer(buffer ?? UnsafeMutableRawPointer(bitPattern: 8)!) }
    public var isAssembling: Bool { first != nil }
    /// Bytes the buffer holds now (tests and statistics).
    public var bufferCapacity: Int { capacity }
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
