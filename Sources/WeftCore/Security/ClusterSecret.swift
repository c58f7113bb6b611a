import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// The shared secret that TCP peers prove they hold. It never crosses the wire.
public struct ClusterSecret: Sendable {
    let key: SymmetricKey

    public init(bytes: some Sequence<UInt8>) throws(ConfigurationError) {
        let data = Array(bytes)
        guard data.count >= 16 else {
            throw .invalid(key: "secret-file", reason: "the cluster secret must be at least 16 bytes")
        }
        key = SymmetricKey(data: data)
    }

    /// Reads a secret file, refusing one that other users could read.
    public static func load(path: String) throws(ConfigurationError) -> ClusterSecret {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .invalid(key: "secret-file", reason: "cannot read the secret file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & (S_IRWXG | S_IRWXO) == 0 else {
            throw .invalid(
                key: "secret-file",
                reason: "the secret file \(path) is readable by other users; run `chmod 600 \(path)`")
        }
        guard let handle = fopen(path, "rb") else {
            throw .invalid(key: "secret-file", reason: "cannot open the secret file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, handle)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        // A trailing newline from an editor or `echo` is not part of the secret.
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return try ClusterSecret(bytes: bytes)
    }
}
