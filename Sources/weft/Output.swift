#if canImport(Glibc)
    import Glibc
#endif

/// Writing to the terminal without touching C's `stdout`/`stderr` globals.
enum Output {
    /// Prints one line to stdout and flushes it at once (a parent may be reading it).
    static func line(_ text: String) {
        print(text)
        fflush(nil)
    }

    /// Writes `text` and a newline to stderr, unbuffered.
    static func error(_ text: String) {
        fflush(nil)
        var bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
