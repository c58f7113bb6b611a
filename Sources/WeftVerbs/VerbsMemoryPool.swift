internal import CWeftVerbs
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Registered memory of one device, in fixed-size chunks (one per connection: its send slots,
/// control slots and receive buffers). Slabs are registered when the transport starts and
/// when a new connection finds the pool empty (setup path), never while sending or receiving.
///
/// Registered memory stays registered until the transport goes: a chunk a connection gives
/// back is reused by the next connection without registering again.
final class VerbsMemoryPool: @unchecked Sendable {
    /// A connection's share of a registered slab.
    struct Chunk: @unchecked Sendable {
        let base: UnsafeMutableRawPointer
        let lkey: UInt32
        let rkey: UInt32
    }

    private struct Slab: @unchecked Sendable {
        let base: UnsafeMutableRawPointer
        let length: Int
        let region: UnsafeMutablePointer<ibv_mr>
    }

    private struct State: @unchecked Sendable {
        var slabs: [Slab] = []
        var free: [Chunk] = []
    }

    let chunkBytes: Int
    let chunksPerSlab: Int
    private let pd: UnsafeMutablePointer<ibv_pd>
    private let deviceName: String
    /// The NUMA node slabs come from (the plan's, docs/numa.md); nil: first touch decides.
    private let memoryNode: Int?
    private let state = Locked(State())

    init(
        pd: UnsafeMutablePointer<ibv_pd>, deviceName: String, chunkBytes: Int, chunksPerSlab: Int = 2,
        memoryNode: Int? = nil
    ) throws(TransportError) {
        self.pd = pd
        self.deviceName = deviceName
        self.memoryNode = memoryNode
        self.chunkBytes = (chunkBytes + 4095) & ~4095
        self.chunksPerSlab = chunksPerSlab
        try grow()
    }

    deinit {
        state.withLock { state in
            for slab in state.slabs {
                VerbsSyscalls.deregister(slab.region)
                NodeLocalMemory.deallocate(slab.base, byteCount: slab.length)
            }
        }
    }

    /// Bytes registered so far.
    var registeredBytes: Int { state.withLock { $0.slabs.reduce(0) { $0 + $1.length } } }

    /// A free chunk, registering one more slab if none is left (setup path).
    func take() throws(TransportError) -> Chunk {
        if let chunk = state.withLock({ $0.free.popLast() }) { return chunk }
        try grow()
        guard let chunk = state.withLock({ $0.free.popLast() }) else {
            throw .unavailable("the registered memory pool of \(deviceName) is empty")
        }
        return chunk
    }

    func give(_ chunk: Chunk) { state.withLock { $0.free.append(chunk) } }

    /// True when `pointer` lies inside memory this pool registered (zero-copy proof for tests).
    func contains(_ pointer: UnsafeRawPointer) -> Bool {
        let address = UInt(bitPattern: pointer)
        return state.withLock { state in
            state.slabs.contains {
                let start = UInt(bitPattern: $0.base)
                return start <= address && address < start + UInt($0.length)
            }
        }
    }

    /// Registers one more slab of `chunksPerSlab` chunks. corresponding C function: `ibv_reg_mr`.
    private func grow() throws(TransportError) {
        let length = chunkBytes * chunksPerSlab
        if let limit = VerbsSyscalls.effectiveMemlockLimit(), registeredBytes + length > limit {
            throw VerbsErrors.memoryRegistration(
                bytes: length, device: deviceName, error: SystemError("ibv_reg_mr", errno: ENOMEM))
        }
        // Zeroed pages on the plan's node, placed before registration pins them.
        let base = NodeLocalMemory.allocate(byteCount: length, node: memoryNode, label: "verbs slab")
        let region: UnsafeMutablePointer<ibv_mr>
        do {
            region = try VerbsSyscalls.register(pd, base, length: length)
        } catch {
            NodeLocalMemory.deallocate(base, byteCount: length)
            throw VerbsErrors.memoryRegistration(bytes: length, device: deviceName, error: error)
        }
        let slab = Slab(base: base, length: length, region: region)
        let chunks = (0..<chunksPerSlab).map { index in
            Chunk(base: base + index * chunkBytes, lkey: region.pointee.lkey, rkey: region.pointee.rkey)
        }
        state.withLock { state in
            state.slabs.append(slab)
            state.free += chunks
        }
    }
}
