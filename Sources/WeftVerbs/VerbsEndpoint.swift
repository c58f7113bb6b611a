import WeftCore

/// A verbs address as users write it: `IP:PORT` of the RDMA device's network interface
/// (`192.168.100.1:7471`, `[fe80::1%eth0]:7471`, `node7:7471`), the same form as TCP's.
struct VerbsEndpoint: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: UInt16

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    init(parsing text: String) throws(TransportError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .badAddress("'\(text)' is not [IPv6]:PORT")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .badAddress("'\(text)' has no port: write IP:PORT of the RDMA device's interface")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portPart) else { throw .badAddress("'\(portPart)' in '\(text)' is not a port number") }
        guard !hostPart.isEmpty else {
            throw .badAddress("'\(text)' has no host: write IP:PORT of the RDMA device's interface")
        }
        host = String(hostPart)
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
