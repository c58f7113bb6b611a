/// Places frames one after another in a rendezvous region and frees them in the same order,
/// so several rendezvous can be in flight on one connection in the memory of one.
///
/// Positions count bytes since the connection started (offset = position % capacity); a
/// frame never straddles the region's end: the rest of that lap is skipped. Whoever frees
/// (the IO thread, on the sending side) reports only `head`, the position before which
/// nothing is in use; the placing side owns everything else.
struct RendezvousRing {
    /// Frames start on cache lines.
    static let alignment: UInt64 = 64

    let capacity: UInt64
    /// The next position to place at.
    private(set) var tail: UInt64 = 0
    /// Nothing before it is in use: set when a frame goes into an empty ring, so the lap
    /// skipped then does not count as used.
    private var floor: UInt64 = 0
    /// `tail` and `floor` before the last `place`, for `unplaceLast`.
    private var beforeLastPlace: (tail: UInt64, floor: UInt64) = (0, 0)

    init(capacity: Int) { self.capacity = UInt64(capacity) }

    /// Places `length` bytes and returns their start position, or nil while too few are free.
    /// `head`: every byte before it has been freed.
    mutating func place(_ length: Int, head: UInt64) -> UInt64? {
        let length = Self.rounded(length)
        guard length <= capacity else { return nil }
        var start = tail
        if start % capacity + length > capacity { start += capacity - start % capacity }
        let inUseFrom = max(head, floor)
        beforeLastPlace = (tail, floor)
        if inUseFrom >= tail {
            floor = start
        } else if start + length - inUseFrom > capacity {
            return nil
        }
        tail = start + length
        return start
    }

    /// The frame placed last at `start` turned out `length` bytes long; returns its end, the
    /// head to free it up to.
    mutating func trim(start: UInt64, to length: Int) -> UInt64 {
        tail = start + Self.rounded(length)
        return tail
    }

    /// The frame placed last was never sent: the ring is as before it, lap skip included (a
    /// skipped lap no frame follows would otherwise stay counted as in use for good).
    mutating func unplaceLast() {
        (tail, floor) = beforeLastPlace
    }

    /// Where a position lies in the region.
    func offset(_ position: UInt64) -> Int { Int(position % capacity) }

    static func rounded(_ length: Int) -> UInt64 { (UInt64(length) + alignment - 1) & ~(alignment - 1) }
}
