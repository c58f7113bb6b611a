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

    /// Creates, sizes, maps and initialises a region; returns it with its memfd (for SCM_RIGHTS).
    static func create(ringBytes: Int, connectorMode: ProgressMode) throws(SystemError) -> (SharedMemoryRegion, Int32) {
        let fd = try SharedMemorySyscalls.memfd(name: "weft-shm")
        let size = SharedMemoryLayout.regionSize(ringBytes: ringBytes)
        do {
            try SharedMemorySyscalls.truncate(fd, to: size)
            let base = try SharedMemorySyscalls.mapShared(fd, size: size)
            base.storeBytes(of: SharedMemoryLayout.magic, as: UInt32.self)
            base.storeBytes(of: SharedMemoryLayout.version, toByteOffset: 4, as: UInt32.self)
            base.storeBytes(of: UInt64(ringBytes), toByteOffset: SharedMemoryLayout.ringBytesOffset, as: UInt64.self)
            base.storeBytes(
                of: ProgressModeCode(connectorMode).rawValue, toByteOffset: SharedMemoryLayout.connectorModeOffset,
                as: UInt32.self)
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

    /// Maps a region received from a connector, checking everything before trusting it.
    static func adopt(fd: Int32, maxRingBytes: Int) throws(TransportError) -> SharedMemoryRegion {
        let size: Int
        do { size = try SharedMemorySyscalls.size(of: fd) } catch { throw .system(error) }
        guard size > SharedMemoryLayout.controlPageSize else {
            throw .handshakeFailed("shared region of \(size) bytes is too small")
        }
        let base: UnsafeMutableRawPointer
        do { base = try SharedMemorySyscalls.mapShared(fd, size: size) } catch { throw .system(error) }
        let region = SharedMemoryRegion(base: base, size: size, ringBytes: 0)
        let magic = base.load(as: UInt32.self)
        let version = base.load(fromByteOffset: 4, as: UInt32.self)
        let ringBytes = Int(base.load(fromByteOffset: SharedMemoryLayout.ringBytesOffset, as: UInt64.self))
        guard magic == SharedMemoryLayout.magic, version == SharedMemoryLayout.version else {
            throw .handshakeFailed("shared region has layout \(magic)/\(version), expected version \(SharedMemoryLayout.version)")
        }
        guard ringBytes >= 4096, ringBytes <= maxRingBytes, ringBytes & (ringBytes - 1) == 0,
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
    }

    func mode(ofConnector: Bool) -> ProgressModeCode {
        let offset = ofConnector ? SharedMemoryLayout.connectorModeOffset : SharedMemoryLayout.acceptorModeOffset
        return ProgressModeCode(rawValue: base.load(fromByteOffset: offset, as: UInt32.self)) ?? .sleep
    }

    func ring(_ index: Int) -> RingMemory {
        RingMemory(
            data: base + SharedMemoryLayout.ringOffset(index, ringBytes: ringBytes),
            size: UInt64(ringBytes),
            head: (base + SharedMemoryLayout.headOffsets[index]).assumingMemoryBound(to: UInt64.self),
            sleeping: (base + SharedMemoryLayout.sleepingOffsets[index]).assumingMemoryBound(to: UInt32.self))
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

/// Where one ring lives in the mapping.
struct RingMemory {
    let data: UnsafeMutableRawPointer
    let size: UInt64
    let head: UnsafeMutablePointer<UInt64>
    let sleeping: UnsafeMutablePointer<UInt32>
}
