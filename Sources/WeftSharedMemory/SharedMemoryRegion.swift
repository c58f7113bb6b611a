import CWeftSharedMemory
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// One process's mapping of the shared memfd. The memory is freed by the kernel when the
/// last mapping and descriptor are gone, whether the processes exit or are killed:
/// nothing is ever named in /dev/shm or on disk.
final class SharedMemoryRegion: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int
    let ringBytes: Int
    private(set) var isMapped = true
    private var isDetached = false

    /// Creates, sizes, maps and initialises a region, its pages on `node` (the connector's
    /// plan; the policy is the memfd's, so the acceptor's mapping shares it); returns it
    /// with its memfd (for SCM_RIGHTS).
    static func create(
        ringBytes: Int, connectorMode: ProgressMode, node: Int? = nil
    ) throws(SystemError) -> (SharedMemoryRegion, Int32) {
        let fd = try SharedMemorySyscalls.memfd(name: "weft-shm")
        let size = SharedMemoryLayout.regionSize(ringBytes: ringBytes)
        do {
            try SharedMemorySyscalls.truncate(fd, to: size)
            try SharedMemorySyscalls.sealSize(fd)
            let base = try SharedMemorySyscalls.mapShared(fd, size: size, populate: true)
            NodeLocalMemory.place(base, byteCount: size, node: node, label: "shm rings")
            base.storeBytes(of: SharedMemoryLayout.magic, as: UInt32.self)
            base.storeBytes(of: SharedMemoryLayout.version, toByteOffset: 4, as: UInt32.self)
            base.storeBytes(of: UInt64(ringBytes), toByteOffset: SharedMemoryLayout.ringBytesOffset, as: UInt64.self)
            base.storeBytes(
                of: ProgressModeCode(connectorMode).rawValue, toByteOffset: SharedMemoryLayout.connectorModeOffset,
                as: UInt32.self)
            base.storeBytes(
                of: WakeProtocol.declared(by: connectorMode).rawValue,
                toByteOffset: SharedMemoryLayout.connectorWakeProtocolOffset, as: UInt32.self)
            for offset in SharedMemoryLayout.headOffsets {
                base.storeBytes(
                    of: SharedMemoryLayout.firstPosition(ringBytes: UInt64(ringBytes)), toByteOffset: offset, as: UInt64.self)
            }
            return (SharedMemoryRegion(base: base, size: size, ringBytes: ringBytes), fd)
        } catch {
            close(fd)
            throw error
        }
    }

    /// Maps a region received from a connector, checking everything before trusting it: its
    /// size must be sealed (else the peer could truncate it under us later: SIGBUS), and fit a
    /// ring within `ringBytes`. Mapped lazily: pages fault in as the rings are used.
    static func adopt(fd: Int32, ringBytes allowed: ClosedRange<Int>) throws(TransportError) -> SharedMemoryRegion {
        let sealed: Bool
        do { sealed = try SharedMemorySyscalls.isSizeSealed(fd) } catch {
            throw .handshakeFailed("the shared region is not a sealable memfd (\(error))")
        }
        guard sealed else {
            throw .handshakeFailed(
                "the shared region's size is not sealed (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL), so the peer could truncate it under this process"
            )
        }
        let size: Int
        do { size = try SharedMemorySyscalls.size(of: fd) } catch { throw .system(error) }
        guard size > SharedMemoryLayout.controlPageSize else {
            throw .handshakeFailed("shared region of \(size) bytes is too small")
        }
        guard size <= SharedMemoryLayout.regionSize(ringBytes: allowed.upperBound) else {
            throw .handshakeFailed(
                "the peer's shared region of \(size) bytes is larger than this side's shm.ring-bytes (\(allowed.upperBound) per ring) allows"
            )
        }
        let base: UnsafeMutableRawPointer
        do { base = try SharedMemorySyscalls.mapShared(fd, size: size, populate: false) } catch { throw .system(error) }
        let region = SharedMemoryRegion(base: base, size: size, ringBytes: 0)
        let magic = base.load(as: UInt32.self)
        let version = base.load(fromByteOffset: 4, as: UInt32.self)
        let ringBytes = Int(base.load(fromByteOffset: SharedMemoryLayout.ringBytesOffset, as: UInt64.self))
        guard magic == SharedMemoryLayout.magic, version == SharedMemoryLayout.version else {
            throw .handshakeFailed("shared region has layout \(magic)/\(version), expected version \(SharedMemoryLayout.version)")
        }
        guard allowed.contains(ringBytes), ringBytes & (ringBytes - 1) == 0,
            SharedMemoryLayout.regionSize(ringBytes: ringBytes) == size
        else { throw .handshakeFailed("shared region declares a ring of \(ringBytes) bytes in \(size)") }
        return SharedMemoryRegion(base: base, size: size, ringBytes: ringBytes, takingOver: region)
    }

    private init(base: UnsafeMutableRawPointer, size: Int, ringBytes: Int) {
        self.base = base
        self.size = size
        self.ringBytes = ringBytes
    }

    private convenience init(base: UnsafeMutableRawPointer, size: Int, ringBytes: Int, takingOver other: SharedMemoryRegion) {
        other.isMapped = false  // the same mapping, now with its validated ring size
        self.init(base: base, size: size, ringBytes: ringBytes)
    }

    func setAcceptorMode(_ mode: ProgressMode) {
        base.storeBytes(
            of: ProgressModeCode(mode).rawValue, toByteOffset: SharedMemoryLayout.acceptorModeOffset, as: UInt32.self)
        base.storeBytes(
            of: WakeProtocol.declared(by: mode).rawValue, toByteOffset: SharedMemoryLayout.acceptorWakeProtocolOffset,
            as: UInt32.self)
    }

    func mode(ofConnector: Bool) -> ProgressModeCode {
        let offset = ofConnector ? SharedMemoryLayout.connectorModeOffset : SharedMemoryLayout.acceptorModeOffset
        return ProgressModeCode(rawValue: base.load(fromByteOffset: offset, as: UInt32.self)) ?? .sleep
    }

    /// What one side declared; anything unknown reads as the producer fencing (always safe).
    func wakeProtocol(ofConnector: Bool) -> WakeProtocol {
        let offset =
            ofConnector ? SharedMemoryLayout.connectorWakeProtocolOffset : SharedMemoryLayout.acceptorWakeProtocolOffset
        return WakeProtocol(rawValue: base.load(fromByteOffset: offset, as: UInt32.self)) ?? .producerFence
    }

    func ring(_ index: Int) -> RingMemory {
        RingMemory(
            data: base + SharedMemoryLayout.ringOffset(index, ringBytes: ringBytes),
            size: UInt64(ringBytes),
            head: (base + SharedMemoryLayout.headOffsets[index]).assumingMemoryBound(to: UInt64.self),
            sleeping: (base + SharedMemoryLayout.sleepingOffsets[index]).assumingMemoryBound(to: UInt32.self))
    }

    /// The heartbeat count of the side that sends on ring `sendRing` (see `SharedMemoryLayout`).
    func heartbeatCount(sendRing: Int) -> UnsafeMutablePointer<UInt64> {
        (base + SharedMemoryLayout.heartbeatOffsets[sendRing]).assumingMemoryBound(to: UInt64.self)
    }

    /// True when `pointer` lies inside this mapping (tests use it to prove zero copy).
    func contains(_ pointer: UnsafeRawPointer) -> Bool {
        pointer >= UnsafeRawPointer(base) && pointer < UnsafeRawPointer(base + size)
    }

    /// Lets the shared memory go while the addresses stay valid (see
    /// `SharedMemorySyscalls.replaceWithPrivatePages`); the mapping itself goes in `deinit`.
    func detach() {
        guard isMapped, !isDetached else { return }
        isDetached = SharedMemorySyscalls.replaceWithPrivatePages(base, size: size)
    }

    func unmap() {
        guard isMapped else { return }
        isMapped = false
        SharedMemorySyscalls.unmap(base, size: size)
    }

    deinit { unmap() }
}
