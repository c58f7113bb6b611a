import WeftCore

/// The IPv4 address of an RDMA device's interface, read from its RoCE GID table (a RoCE v2
/// GID of an IPv4 interface is `::ffff:a.b.c.d`): where a peer this process starts itself
/// can listen. rxe loops back on that address, never on 127.0.0.1.
public enum VerbsInterfaceAddress {
    /// `a.b.c.d:0` of `device` (or of the first device with an active port); nil when no
    /// active port has an IPv4 GID (InfiniBand without IPoIB, or no device).
    public static func listenAddress(device wanted: String? = nil) -> String? {
        guard case .success(let reports) = VerbsDeviceReport.collect() else { return nil }
        for report in reports where wanted == nil || report.name == wanted {
            for port in report.ports where port.state == "ACTIVE" {
                for gid in port.gids {
                    if let address = ipv4(fromGID: gid) { return "\(address):0" }
                }
            }
        }
        return nil
    }

    /// `a.b.c.d` from a GID written as eight groups (`0000:…:ffff:c0a8:6401`), if IPv4-mapped.
    static func ipv4(fromGID text: String) -> String? {
        let groups = text.split(separator: ":").compactMap { UInt16($0, radix: 16) }
        guard groups.count == 8, groups[0..<5].allSatisfy({ $0 == 0 }), groups[5] == 0xFFFF else { return nil }
        return "\(groups[6] >> 8).\(groups[6] & 0xFF).\(groups[7] >> 8).\(groups[7] & 0xFF)"
    }
}
