#if canImport(Glibc)
    import Glibc
#endif

/// Owns one file descriptor and closes it exactly once.
package struct OwnedDescriptor: ~Copyable, Sendable {
    public let rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// Gives the descriptor up without closing it.
    public consuming func release() -> Int32 {
        let fd = rawValue
        discard self
        return fd
    }

    deinit { _ = Glibc.close(rawValue) }
}
