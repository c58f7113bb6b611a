#if canImport(Glibc)
    import Glibc
#endif

/// The socket-level calls that map an IP address to the interface carrying it.
enum InterfaceSyscalls {
    /// One address of one interface.
    struct InterfaceAddress {
        var interface: String
        var address: String
        var isUp: Bool
        var isLoopback: Bool
    }

    /// `IFF_UP` and `IFF_LOOPBACK` of <net/if.h> (an anonymous enum Swift does not name).
    static let interfaceUp: UInt32 = 0x1
    static let interfaceLoopback: UInt32 = 0x8

    /// Every IPv4 and IPv6 address of every interface, numeric.
    /// corresponding C function: `getifaddrs`.
    static func interfaceAddresses() -> [InterfaceAddress] {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var result: [InterfaceAddress] = []
        var cursor = first
        while let entry = cursor {
            cursor = entry.pointee.ifa_next
            guard let address = entry.pointee.ifa_addr, let text = numericHost(address) else { continue }
            let flags = entry.pointee.ifa_flags
            result.append(
                InterfaceAddress(
                    interface: String(cString: entry.pointee.ifa_name), address: text,
                    isUp: flags & interfaceUp != 0, isLoopback: flags & interfaceLoopback != 0))
        }
        return result
    }

    /// The local address the kernel would send from to reach `address` (a UDP `connect`
    /// sends nothing; it only asks the routing table). corresponding C functions:
    /// `socket`, `connect`, `getsockname`.
    static func sourceAddress(toward address: String) -> String? {
        var storage = sockaddr_storage()
        var length: socklen_t
        let family: Int32
        if address.contains(":") {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = UInt16(9).bigEndian
            guard inet_pton(AF_INET6, address, &sin6.sin6_addr) == 1 else { return nil }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: sin6, as: sockaddr_in6.self) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
        } else {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(9).bigEndian
            guard inet_pton(AF_INET, address, &sin.sin_addr) == 1 else { return nil }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: sin, as: sockaddr_in.self) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
        }
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else { return nil }
        var local = sockaddr_storage()
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { numericHost($0) }
        }
    }

    /// A socket address's host as text (no brackets, no scope). corresponding C function: `inet_ntop`.
    static func numericHost(_ address: UnsafePointer<sockaddr>) -> String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            var sin = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            guard inet_ntop(AF_INET, &sin.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
        case AF_INET6:
            var sin6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            guard inet_ntop(AF_INET6, &sin6.sin6_addr, &text, socklen_t(text.count)) != nil else { return nil }
        default:
            return nil
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
