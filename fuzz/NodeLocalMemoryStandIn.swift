// Stands in for WeftCore's `NodeLocalMemory` in the fuzz build only: the TCP receive buffer
// allocates through it. The real one maps whole pages, where AddressSanitizer cannot see a
// read past the buffer's end; this one hands out heap blocks of exactly the size asked for,
// so it can, and it checks that every block goes back with the size it was given. Never
// linked into Weft.

enum NodeLocalMemory {
    /// Live blocks and their sizes.
    nonisolated(unsafe) static var live: [UnsafeMutableRawPointer: Int] = [:]

    static func allocate(byteCount: Int, node: Int?, label: String) -> UnsafeMutableRawPointer {
        precondition(byteCount > 0, "\(label): allocating \(byteCount) bytes")
        let base = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 16)
        live[base] = byteCount
        return base
    }

    static func deallocate(_ base: UnsafeMutableRawPointer, byteCount: Int) {
        precondition(live.removeValue(forKey: base) == byteCount, "freeing a block with the wrong size, or twice")
        base.deallocate()
    }
}
