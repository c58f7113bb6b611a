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

    /// The connection goes while its last assembled message is still held: the buffer stays
    /// with that message (and counted in the process's pool) instead of being freed under it.
    package mutating func leaveBufferToHeldMessage() {
        buffer = nil
        capacity = 0
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
