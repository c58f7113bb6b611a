#if canImport(Glibc)
    import Glibc
#endif

/// Reads files of a sysfs (or procfs) tree under a root folder: the live `/sys`, or a
/// recorded copy in the tests. Every read is small and happens at setup.
struct SysfsTree: Sendable {
    /// `/sys` or a recorded copy of it; paths below are relative to it, without a leading slash.
    let root: String

    func path(_ relative: String) -> String { root + "/" + relative }

    /// The file's text without the trailing newline; nil when missing or unreadable.
    /// corresponding C functions: `open`, `read`.
    func read(_ relative: String) -> String? {
        let fd = open(path(relative), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk.prefix(count)
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last == "\n" { text.removeLast() }
        return text
    }

    func exists(_ relative: String) -> Bool { access(path(relative), F_OK) == 0 }

    /// Names in a folder (without `.` and `..`), sorted; empty when it does not exist.
    /// corresponding C functions: `opendir`, `readdir`.
    func list(_ relative: String) -> [String] {
        guard let dir = opendir(path(relative)) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The folder a link resolves to, relative to the root; nil when it does not resolve
    /// inside the root. corresponding C function: `realpath`.
    func resolve(_ relative: String) -> String? {
        guard let resolved = realpath(path(relative), nil) else { return nil }
        defer { free(resolved) }
        let full = String(cString: resolved)
        guard let realRoot = realpath(root, nil) else { return nil }
        defer { free(realRoot) }
        let rootText = String(cString: realRoot)
        guard full.hasPrefix(rootText + "/") else { return nil }
        return String(full.dropFirst(rootText.count + 1))
    }
}
