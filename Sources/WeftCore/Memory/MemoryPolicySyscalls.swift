import CNUMA

#if canImport(Glibc)
    import Glibc
#endif

/// The memory calls of `NodeLocalMemory`: anonymous mappings and their NUMA policy
/// (libnuma's wrappers of the `mbind` and `move_pages` system calls).
enum MemoryPolicySyscalls {
    /// Bits in the node masks passed to the kernel: nodes 0 to 1023.
    static let maskWords = 16

    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// A private, zero-filled, page-aligned mapping. corresponding C function: `mmap`.
    static func mapAnonymous(byteCount: Int) throws(SystemError) -> UnsafeMutableRawPointer {
        guard let base = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            base != MAP_FAILED
        else { throw SystemError("mmap", errno: errno) }
        return base
    }

    /// corresponding C function: `munmap`.
    static func unmap(_ base: UnsafeMutableRawPointer, byteCount: Int) {
        _ = munmap(base, byteCount)
    }

    /// Asks for the pages of `[base, base + byteCount)` from `node` (falling back to other
    /// nodes only when it has no free memory), moving pages already present.
    /// corresponding C function: `mbind` with `MPOL_PREFERRED` and `MPOL_MF_MOVE`.
    static func preferNode(_ node: Int, base: UnsafeMutableRawPointer, byteCount: Int) throws(SystemError) {
        var mask = [UInt](repeating: 0, count: maskWords)
        mask[node / UInt.bitWidth] |= 1 << UInt(node % UInt.bitWidth)
        let rc = mask.withUnsafeBufferPointer { words in
            mbind(
                base, UInt(byteCount), MPOL_PREFERRED, words.baseAddress, UInt(maskWords * UInt.bitWidth + 1),
                UInt32(MPOL_MF_MOVE))
        }
        guard rc == 0 else { throw SystemError("mbind", errno: errno) }
    }

    /// The node of each page of `[base, base + byteCount)` (negative errno for a page not
    /// present). corresponding C function: `move_pages` with no target nodes (a query).
    static func nodesOfPages(_ base: UnsafeRawPointer, byteCount: Int) throws(SystemError) -> [Int32] {
        let size = pageSize
        let count = (byteCount + size - 1) / size
        var pages: [UnsafeMutableRawPointer?] = (0..<count).map { UnsafeMutableRawPointer(mutating: base + $0 * size) }
        var status = [Int32](repeating: 0, count: count)
        let rc = pages.withUnsafeMutableBufferPointer { pointers in
            status.withUnsafeMutableBufferPointer { move_pages(0, UInt(count), pointers.baseAddress, nil, $0.baseAddress, 0) }
        }
        guard rc == 0 else { throw SystemError("move_pages", errno: errno) }
        return status
    }
}
