import CWeftSharedMemory
import WeftCore

/// The receiving end of one ring, driven by the connection's IO thread.
struct RingConsumer {
    let ring: RingMemory
    let mask: UInt64
    private(set) var head: UInt64
    private var publishedHead: UInt64
    /// The handler may still hold a frame: delivery asks `InOrderDelivery.resume` before
    /// going on. Kept here so that a poll with nothing held costs no call.
    var mayBeHolding = false

    init(ring: RingMemory) {
        self.ring = ring
        mask = ring.size - 1
        head = SharedMemoryLayout.firstPosition(ringBytes: ring.size)
        publishedHead = head
    }

    /// What the consumer finds at its head.
    enum Next {
        case empty
        /// A frame: its header (already validated) starts at `frame`; the record ends at `end`.
        case frame(UnsafeRawPointer, header: FrameHeader, end: UInt64)
        case malformed(FrameError)
    }

    /// Looks at the head without consuming; skips padding.
    ///
    /// The peer controls every byte of the ring, so what a correct producer never writes is
    /// `malformed` (the connection closes): a record that runs past the ring's end, padding
    /// at the ring's start (it would skip a whole lap, and a peer writing it lap after lap
    /// would keep this loop from ever returning), and a tag ahead of the head (a producer
    /// writes the slot at the head only with the head's own position). A tag behind the head
    /// is an earlier lap's or zero: nothing published yet. So the loop runs at most twice.
    @inline(__always)
    mutating func peek(limits: FrameLimits) -> Next {
        while true {
            let offset = head & mask
            let tagAddress = ring.data + Int(offset)
            let tag = cweft_load_acquire_u64(tagAddress.assumingMemoryBound(to: UInt64.self))
            if tag == head {
                let frame = UnsafeRawPointer(tagAddress + SharedMemoryLayout.tagSize)
                switch FrameHeader.decode(from: frame, limits: limits) {
                case .failure(let error): return .malformed(error)
                case .success(let header):
                    let size = SharedMemoryLayout.recordSize(payload: Int(header.payloadLength))
                    guard offset + size <= ring.size else {
                        return .malformed(.tooLong(length: Int(header.payloadLength), limit: Int(ring.size - offset)))
                    }
                    return .frame(frame, header: header, end: head &+ size)
                }
            }
            if tag == head | SharedMemoryLayout.paddingBit {
                guard offset != 0 else { return .malformed(.malformedPayload("padding at the start of the ring")) }
                let end = head &+ (ring.size - offset)
                clearInnerSlots(from: head, to: end)
                head = end
                continue
            }
            if tag & ~SharedMemoryLayout.paddingBit > head {
                return .malformed(.malformedPayload("a ring record tagged \(tag) ahead of the consumer at \(head)"))
            }
            return .empty
        }
    }

    /// True when `peek` would find something at the head: a record, padding, or a tag ahead
    /// of the head that it reports as malformed. The re-check after `setSleeping(true)`.
    ///
    /// Why this load is sequentially consistent, not acquire: the wake-up handshake is the C11
    /// store-buffering pattern. The consumer stores `sleeping = 1` then loads the tag; the
    /// producer stores the tag then (after a full fence) loads `sleeping`. A lost wake-up is
    /// the outcome where both loads read the old value (consumer sees no tag, producer sees
    /// no sleeper), and C11 forbids it only when all four accesses are in the single total
    /// order of `seq_cst` operations (the producer's fence stands in for its side). With an
    /// acquire load here the consumer's load may be ordered before its own store, both old
    /// values are allowed, and the consumer would sleep on a record nobody signals. On x86
    /// both compile to the same `mov` (the `seq_cst` store is the `xchg`), so the choice costs
    /// nothing, and no test can tell them apart there; weaker machines (Arm) differ.
    @inline(__always)
    func hasWork() -> Bool {
        let tag = cweft_load_u64_seq_cst((ring.data + Int(head & mask)).assumingMemoryBound(to: UInt64.self))
        return tag & ~SharedMemoryLayout.paddingBit >= head
    }

    /// Frees the record(s) before `end`. Records of more than one 64-byte slot get the first
    /// word of each inner slot cleared first: a later record may start there, and the bytes of
    /// an old payload must never read as its tag. A one-slot record needs nothing, so small
    /// messages cost no extra store.
    @inline(__always)
    mutating func consume(upTo end: UInt64) {
        if end &- head > SharedMemoryLayout.recordAlignment { clearInnerSlots(from: head, to: end) }
        head = end
    }

    /// Moves the head past a record handed out in a batch, freeing nothing yet: the batch's
    /// frames stay in place until `consumeBatch` (the producer sees only published heads).
    @inline(__always)
    mutating func skip(to end: UInt64) { head = end }

    /// A batch of `frames` records from `start` to the head was handled: clears inner slots
    /// when some record covered several (then the one-slot records' tags in the run are
    /// cleared too, which no one reads again).
    @inline(__always)
    func consumeBatch(from start: UInt64, frames: Int) {
        if head &- start > UInt64(frames) &* SharedMemoryLayout.recordAlignment { clearInnerSlots(from: start, to: head) }
    }

    private func clearInnerSlots(from start: UInt64, to end: UInt64) {
        var slot = start &+ SharedMemoryLayout.recordAlignment
        while slot < end {
            (ring.data + Int(slot & mask)).storeBytes(of: 0, as: UInt64.self)
            slot &+= SharedMemoryLayout.recordAlignment
        }
    }

    /// Tells the producer how far it may reuse the ring (once per batch, not per frame).
    @inline(__always)
    mutating func publishHead() {
        if publishedHead != head {
            cweft_store_release_u64(ring.head, head)
            publishedHead = head
        }
    }

    func setSleeping(_ asleep: Bool) { cweft_store_u32_seq_cst(ring.sleeping, asleep ? 1 : 0) }
}
