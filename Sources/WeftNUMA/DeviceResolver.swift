import WeftCore

/// Turns what a transport says it uses (`DeviceLocation`) into a device of the topology.
///
/// - An IP address: the interface that holds it, else the one the routing table sends
///   traffic for it through (`InterfaceSyscalls.sourceAddress`).
/// - The default route: the interface of the IPv4 (else IPv6) default route in
///   `/proc/net/route` (`/proc/net/ipv6_route`), else the only interface that is up, not
///   loopback, has an address and is a device.
/// - An interface or RDMA device: looked up by name.
/// An address on loopback (or any interface without a device) resolves to no device.
public struct DeviceResolver: Sendable {
    let proc: SysfsTree

    /// `procRoot`: `/proc`, or a recorded tree.
    public init(procRoot: String = "/proc") { proc = SysfsTree(root: procRoot) }

    public func device(for location: DeviceLocation?, in topology: NUMATopology) -> NUMADevice? {
        guard let location else { return nil }
        switch location {
        case .hostMemory:
            return nil
        case .networkInterface(let name):
            return topology.device(named: name, kind: .net)
        case .rdmaDevice(let name):
            return topology.device(named: name, kind: .rdma)
        case .ipAddress(let address):
            return interface(holding: address).flatMap { topology.device(named: $0, kind: .net) }
        case .defaultRoute:
            return defaultRouteInterface(in: topology).flatMap { topology.device(named: $0, kind: .net) }
        }
    }

    /// The interface that holds `address`, or that traffic to it leaves through.
    func interface(holding address: String) -> String? {
        let addresses = InterfaceSyscalls.interfaceAddresses()
        if let own = addresses.first(where: { $0.address == address }) { return own.interface }
        guard let source = InterfaceSyscalls.sourceAddress(toward: address) else { return nil }
        return addresses.first { $0.address == source }?.interface
    }

    func defaultRouteInterface(in topology: NUMATopology) -> String? {
        // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask …, hex.
        for line in (proc.read("net/route") ?? "").split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count > 7, fields[1] == "00000000", fields[7] == "00000000" { return String(fields[0]) }
        }
        // /proc/net/ipv6_route: destination, prefix length, …, interface last.
        for line in (proc.read("net/ipv6_route") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 10, fields[0].allSatisfy({ $0 == "0" }), fields[1] == "00", fields[9] != "lo" {
                return String(fields[9])
            }
        }
        let candidates = Set(
            InterfaceSyscalls.interfaceAddresses().filter { $0.isUp && !$0.isLoopback }.map(\.interface)
        ).filter { topology.device(named: $0, kind: .net) != nil }
        return candidates.count == 1 ? candidates.first : nil
    }
}
