import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The receive buffer of one TCP connection and the framing over it: how the bytes read
/// from the socket are cut into frames, padding skipped, a partial frame kept, and the
/// buffer grown for a large frame and shrunk back. It makes no system call, so the fuzzer
/// (`fuzz/StreamFuzz.swift`) drives exactly this code with reads of any length; the
/// connection owns one and frees it (`deallocate`).
///
/// ```
///   0      delivered frame    parsed                 filled                 capacity
///   |......|================|----------------------|......................|
///           held by the        frames (and a partial  free: the next read
///           handler until      one) not yet handed    lands here
///           released           out
/// ```
///
/// Every frame starts 8-byte aligned: frames are padded to a multiple of 8 on the wire,
/// and a partial frame only ever moves to offset 0. A frame handed out by `nextFrame`
/// stays in place until the next `makeRoom` or `shrinkIfGrown`: call those only once the
/// handler has released it.
struct TCPReceiveBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// `tcp.receive-buffer-bytes`: what the buffer returns to once a large frame is handled.
    let initialCapacity: Int
    /// The NUMA node the buffer comes from (`NodeLocalMemory`; nil: first touch decides).
    let memoryNode: Int?
    /// Start of the first byte not yet handed out as part of a frame.
    private(set) var parsed = 0
    /// End of the bytes read so far.
    private(set) var filled = 0

    init(capacity: Int, memoryNode: Int?) {
        self.capacity = capacity
        initialCapacity = capacity
        self.memoryNode = memoryNode
        base = NodeLocalMemory.allocate(byteCount: capacity, node: memoryNode, label: "tcp receive buffer")
    }

    /// Gives the memory back; the buffer must not be used afterwards.
    func deallocate() {
        NodeLocalMemory.deallocate(base, byteCount: capacity)
    }

    /// What the bytes at `parsed` hold.
    enum Next {
        /// A whole frame, now consumed (with its padding); its payload lies in place.
        case frame(FrameHeader, payload: UnsafeMutableRawPointer)
        /// No whole frame yet: the contiguous bytes from `parsed` the next frame needs.
        case needs(Int)
        /// The header does not decode under `limits`: the connection must close.
        case malformed(FrameError)
    }

    /// The next complete frame, consumed; or how many bytes it needs; or why it is malformed.
    @inline(__always)
    mutating func nextFrame(limits: FrameLimits) -> Next {
        let available = filled - parsed
        guard available >= FrameLayout.headerSize else { return .needs(FrameLayout.headerSize) }
        let frame = base + parsed
        let header: FrameHeader
        switch FrameHeader.decode(from: frame, limits: limits) {
        case .success(let decoded): header = decoded
        case .failure(let error): return .malformed(error)
        }
        let size = FrameHeader.paddedFrameSize(payload: Int(header.payloadLength))
        guard available >= size else { return .needs(size) }
        parsed += size
        return .frame(header, payload: frame + FrameLayout.headerSize)
    }

    /// Where the next read lands, and how many bytes fit there (more than 0 after `makeRoom`).
    var freeSpace: UnsafeMutableRawPointer { base + filled }
    var freeBytes: Int { capacity - filled }

    /// `count` bytes were read into `freeSpace`.
    @inline(__always)
    mutating func didReceive(_ count: Int) {
        filled += count
    }

    /// True when every byte read was handed out: nothing partial is buffered.
    var isDrained: Bool { parsed == filled }

    /// Makes room to read towards `need` contiguous bytes from `parsed` (no frame is held).
    /// A frame larger than the buffer grows it as its bytes arrive (at most doubling each
    /// time the buffer is full), so a header declaring a large frame costs nothing up front.
    mutating func makeRoom(for need: Int) {
        if parsed == filled {
            parsed = 0
            filled = 0
        } else if parsed > 0 && (parsed + need > capacity || capacity - filled < min(16 << 10, capacity / 4)) {
            // Move the partial frame to the start (at most one frame's bytes).
            let pending = filled - parsed
            memmove(base, base + parsed, pending)
            parsed = 0
            filled = pending
        }
        if need > capacity && filled == capacity {
            let grown = min(need, capacity * 2)
            let moved = NodeLocalMemory.allocate(byteCount: grown, node: memoryNode, label: "tcp receive buffer")
            let pending = filled - parsed
            moved.copyMemory(from: base + parsed, byteCount: pending)
            NodeLocalMemory.deallocate(base, byteCount: capacity)
            base = moved
            capacity = grown
            parsed = 0
            filled = pending
        }
    }

    /// The socket is drained: once nothing is buffered either, give back what a large
    /// frame made the buffer grow to.
    mutating func shrinkIfGrown() {
        guard parsed == filled, capacity > initialCapacity else { return }
        NodeLocalMemory.deallocate(base, byteCount: capacity)
        capacity = initialCapacity
        base = NodeLocalMemory.allocate(byteCount: capacity, node: memoryNode, label: "tcp receive buffer")
        parsed = 0
        filled = 0
    }

    /// At the end of the stream: nil when it ended between frames, else the `truncated`
    /// error naming what the partial frame has and needs.
    func truncation(limits: FrameLimits) -> FrameError? {
        let have = filled - parsed
        guard have > 0 else { return nil }
        var need = FrameLayout.headerSize
        if have >= FrameLayout.headerSize, case .success(let header) = FrameHeader.decode(from: base + parsed, limits: limits) {
            need = FrameHeader.paddedFrameSize(payload: Int(header.payloadLength))
        }
        return .truncated(have: have, need: need)
    }
}
