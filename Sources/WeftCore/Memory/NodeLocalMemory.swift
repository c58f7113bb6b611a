import CWeftCore
import Logging

/// The one place Weft's transports get their large buffers from (shared-memory rings, TCP
/// send and receive buffers, verbs slabs), so that they sit on the NUMA node of the IO
/// thread and device that use them (`IOThreadPlacement.memoryNode`).
///
/// With a node, the pages carry an `MPOL_PREFERRED` policy for it (`mbind`) and are touched
/// at once: where they land is decided by the policy, not by which thread touches first,
/// and no page fault is left for the message path. Without a node, the pages come from
/// wherever they are first touched, as with `malloc` (the IO thread, for receive buffers).
///
/// A policy the kernel refuses (no NUMA, a node outside the cpuset's memory nodes) is
/// logged and the memory is used as it is: placement is an optimisation, never a failure
/// at message time; the plan, made before, reports impossible nodes as errors.
///
/// At `debug` log level each allocation logs one line with its address, size, the node
/// asked for and the nodes its pages are on (`move_pages`), so a test can check what Weft
/// allocated (with /proc/PID/numa_maps too).
package enum NodeLocalMemory {
    /// Maps `byteCount` zeroed bytes, page-aligned, on `node` when given. Release it with
    /// `deallocate(_:byteCount:)` and the same count. Traps when memory is exhausted, like
    /// `UnsafeMutableRawPointer.allocate`.
    public static func allocate(byteCount: Int, node: Int?, label: String) -> UnsafeMutableRawPointer {
        let base: UnsafeMutableRawPointer
        do {
            base = try MemoryPolicySyscalls.mapAnonymous(byteCount: max(byteCount, 1))
        } catch {
            fatalError("cannot map \(byteCount) bytes for \(label): \(error)")
        }
        place(base, byteCount: byteCount, node: node, label: label)
        return base
    }

    /// Unmaps memory from `allocate`.
    public static func deallocate(_ base: UnsafeMutableRawPointer, byteCount: Int) {
        MemoryPolicySyscalls.unmap(base, byteCount: max(byteCount, 1))
    }

    /// Puts an existing mapping (a shared-memory region) on `node`, moving the pages this
    /// process already has there, and touches every page. Nothing happens without a node.
    public static func place(_ base: UnsafeMutableRawPointer, byteCount: Int, node: Int?, label: String) {
        let logger = Logger(label: "weft.numa")
        guard let node else {
            logger.debug("numa: \(label): \(byteCount) bytes at \(base), no node asked (first touch decides)")
            return
        }
        do {
            try MemoryPolicySyscalls.preferNode(node, base: base, byteCount: byteCount)
        } catch {
            logger.warning("numa: \(label) stays where the kernel put it: \(error)")
            return
        }
        cweft_touch_pages(base, byteCount, MemoryPolicySyscalls.pageSize)
        guard logger.logLevel <= .debug else { return }
        let pages = pagesByNode(base, byteCount: byteCount).map { "node \($0.key): \($0.value) pages" }
        logger.debug(
            "numa: \(label): \(byteCount) bytes at \(base), asked node \(node), \(pages.joined(separator: ", "))")
    }

    /// How many pages of `[base, base + byteCount)` sit on each node (present pages only).
    /// corresponding C function: `move_pages` (as a query).
    public static func pagesByNode(_ base: UnsafeRawPointer, byteCount: Int) -> [Int: Int] {
        guard let nodes = try? MemoryPolicySyscalls.nodesOfPages(base, byteCount: byteCount) else { return [:] }
        var counts: [Int: Int] = [:]
        for node in nodes where node >= 0 { counts[Int(node), default: 0] += 1 }
        return counts
    }
}
