import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Addresses for the members of a cluster on this host, for a transport by name.
public enum ClusterAddresses {
    public static func memberName(_ index: Int) -> String { "node-\(index)" }

    /// `count` members named `node-0` …: shm names unique to `tag`, free 127.0.0.1 ports, or TIPC service names.
    public static func make(transport: String, count: Int, tag: String) throws(ClusterSetupError) -> [String: String] {
        var addresses: [String: String] = [:]
        switch transport {
        case "shm":
            for index in 0..<count { addresses[memberName(index)] = "shm:barrels-\(tag)-\(index)" }
        case "tcp":
            for (index, port) in try freeLoopbackPorts(count).enumerated() {
                addresses[memberName(index)] = "127.0.0.1:\(port)"
            }
        case "tipc":
            // Service names of one random range: no IP address or port, and a name taken
            // by anyone else is refused when the member listens.
            let base = UInt32.random(in: 1...0x7fff_0000)
            for index in 0..<count { addresses[memberName(index)] = "\(base + UInt32(index))" }
        default:
            throw ClusterSetupError(
                "the barrels example places members on this host over shm, tcp or tipc only, not over \(transport)")
        }
        return addresses
    }

    /// `NAME=ADDRESS,…` as passed to members with `--members`.
    public static func encode(_ addresses: [String: String]) -> String {
        addresses.keys.sorted().map { "\($0)=\(addresses[$0]!)" }.joined(separator: ",")
    }

    public static func decode(_ text: String) throws(ClusterSetupError) -> [String: String] {
        var addresses: [String: String] = [:]
        for entry in text.split(separator: ",") {
            guard let equals = entry.firstIndex(of: "=") else {
                throw ClusterSetupError("'\(entry)' in --members is not NAME=ADDRESS")
            }
            addresses[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return addresses
    }

    /// Ports the kernel hands out for 127.0.0.1 now (held open together, so they differ,
    /// then released for the members to bind).
    public static func freeLoopbackPorts(_ count: Int) throws(ClusterSetupError) -> [UInt16] {
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        var ports: [UInt16] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ClusterSetupError("cannot open a socket to find a free port: errno \(errno)") }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
                }
            }
            guard bound else { throw ClusterSetupError("cannot bind 127.0.0.1 to find a free port: errno \(errno)") }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return ports
    }
}

/// The cluster could not be laid out; one sentence.
public struct ClusterSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
