import WeftCore

/// One of this node's TIPC bearers, as the kernel lists them (`tipc bearer list`): the
/// media and interface (`eth:eth0`, `ib:ib0`) or a UDP bearer's name and local address.
/// NUMA placement follows the bearer TIPC traffic leaves through.
struct TIPCBearer: Sendable, Equatable {
    /// `media:interface` for L2 media, `udp:NAME` for UDP.
    var name: String
    /// A UDP bearer's local IP address (numeric); nil for L2 media.
    var localAddress: String?

    init(name: String, localAddress: String? = nil) {
        self.name = name
        self.localAddress = localAddress
    }

    /// The device the bearer sends through: the interface of an Ethernet or InfiniBand
    /// bearer, the interface holding a UDP bearer's local address.
    var device: DeviceLocation? {
        guard let colon = name.firstIndex(of: ":") else { return nil }
        let media = name[..<colon]
        let rest = String(name[name.index(after: colon)...])
        switch media {
        case "eth", "ib": return rest.isEmpty ? nil : .networkInterface(rest)
        case "udp": return localAddress.map(DeviceLocation.ipAddress)
        default: return nil
        }
    }

    /// Parses the shim's listing: one bearer per line, `NAME<TAB>LOCAL-ADDRESS`, the
    /// address empty for L2 media.
    static func parse(_ listing: String) -> [TIPCBearer] {
        listing.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard let name = fields.first, !name.isEmpty else { return nil }
            let address = fields.count > 1 && !fields[1].isEmpty ? String(fields[1]) : nil
            return TIPCBearer(name: String(name), localAddress: address)
        }
    }

    /// Where a TIPC node's IO threads belong: the first bearer with a device, in the
    /// kernel's order. No bearer (a node that talks only to itself) means no device.
    static func placementDevice(among bearers: [TIPCBearer]) -> DeviceLocation? {
        bearers.lazy.compactMap(\.device).first
    }
}
