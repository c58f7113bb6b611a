/// The device a transport instance moves its bytes through, as the NUMA planner needs it
/// to find the device's node (WeftNUMA reads /sys/class/net/NAME or
/// /sys/class/infiniband/NAME). A transport says which through
/// `TransportDescriptor.device`.
public enum DeviceLocation: Sendable, Equatable, CustomStringConvertible {
    /// A network interface by name (`eth0`, `ib0`; a TIPC bearer's interface).
    case networkInterface(String)
    /// An RDMA device by name (`mlx5_0`, `rxe0`).
    case rdmaDevice(String)
    /// An IP address (numeric, no brackets): the interface that holds it, or that the
    /// routing table sends traffic for it through.
    case ipAddress(String)
    /// The interface of the default route (or the only interface up with an address):
    /// for a socket bound to every interface, or with no address given yet.
    case defaultRoute
    /// No device: the transport stays on this host (shared memory); its threads follow
    /// the process's CPUs or `numa-node`.
    case hostMemory

    public var description: String {
        switch self {
        case .networkInterface(let name): return "interface \(name)"
        case .rdmaDevice(let name): return "RDMA device \(name)"
        case .ipAddress(let address): return "address \(address)"
        case .defaultRoute: return "the default route's interface"
        case .hostMemory: return "host memory"
        }
    }
}
