#if canImport(Glibc)
    import Glibc
#endif

/// An errno with the call that produced it, so one sentence can say what failed.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The one place libc calls are retried on EINTR and turned into thrown errors.
package enum Syscall {
    /// Runs `body` until it returns something other than -1 with EINTR. Inlinable, so that
    /// every caller gets it specialised for its integer type (a generic call per system call
    /// showed in profiles of the TCP round trip).
    @inlinable @inline(__always)
    public static func retrying<T: FixedWidthInteger>(
        _ call: StaticString, _ body: () -> T
    ) throws(SystemError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw SystemError("\(call)", errno: code)
        }
    }

    /// Like `retrying`, but EAGAIN/EWOULDBLOCK comes back as nil instead of an error.
    @inlinable @inline(__always)
    public static func nonBlocking<T: FixedWidthInteger>(
        _ call: StaticString, _ body: () -> T
    ) throws(SystemError) -> T? {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw SystemError("\(call)", errno: code)
        }
    }
}
