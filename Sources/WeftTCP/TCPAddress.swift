internal import CWeftTCP
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP address as users write it: `host:port`, `[v6]:port` or `name:port`.
///
/// | written | meaning |
/// |---|---|
/// | `127.0.0.1:7000` | IPv4 |
/// | `[::1]:7000` | IPv6 (brackets required) |
/// | `localhost:7000` | a name, resolved with `getaddrinfo` |
/// | `0.0.0.0:0`, `[::]:0` | listen on every interface; port 0 lets the kernel choose |
struct TCPEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// The host without brackets.
    var host: String
    var port: UInt16

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    init(parsing text: String) throws(TransportError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .badAddress("'\(text)' opens '[' without a closing ']' (write IPv6 as [::1]:7000)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw .badAddress("'\(text)' has no port after the IPv6 address (write [::1]:7000)")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .badAddress("'\(text)' has no port (write host:port, for example 127.0.0.1:7000)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else {
                throw .badAddress("'\(text)' looks like an IPv6 address; put it in brackets: [\(host)]:\(portText)")
            }
        }
        guard !host.isEmpty else {
            throw .badAddress("'\(text)' has no host (use 0.0.0.0 or [::] for every interface, 127.0.0.1 for loopback)")
        }
        guard let port = UInt16(portText) else {
            throw .badAddress("'\(text)' has port '\(portText)', which is not a number from 0 to 65535")
        }
        self.host = String(host)
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A resolved socket address (IPv4 or IPv6), as the kernel takes it.
struct TCPAddress: Sendable, CustomStringConvertible {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    init() {}

    var family: Int32 { withUnsafePointer(to: storage) { cweft_tcp_family($0) } }
    var isIPv6: Bool { family == CWEFT_TCP_AF_INET6 }

    /// 127.0.0.0/8, ::1 and IPv4-mapped loopback.
    var isLoopback: Bool { withUnsafePointer(to: storage) { cweft_tcp_is_loopback($0) != 0 } }

    var port: UInt16 {
        get { numeric?.port ?? 0 }
        set { withUnsafeMutablePointer(to: &storage) { cweft_tcp_set_port($0, newValue) } }
    }

    /// The numeric host (no brackets) and port.
    var numeric: (host: String, port: UInt16)? {
        var text = [CChar](repeating: 0, count: 64)
        var port: UInt16 = 0
        let rc = withUnsafePointer(to: storage) { cweft_tcp_format($0, &text, text.count, &port) }
        guard rc == 0 else { return nil }
        return (String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port)
    }

    /// `a.b.c.d:port` or `[v6]:port`.
    var description: String {
        guard let (host, port) = numeric else { return "(unknown address)" }
        return TCPEndpoint(host: host, port: port).description
    }
}
