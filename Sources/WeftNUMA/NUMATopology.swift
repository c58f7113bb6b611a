/// What the machine looks like to placement: its NUMA nodes and where its network and
/// RDMA devices sit. A plain value, so the planner can be tested on recorded machines.
public struct NUMATopology: Sendable, Equatable {
    /// The NUMA nodes, by ascending id; empty when the kernel reports none (built without NUMA).
    public var nodes: [NUMANode]
    /// Network interfaces and RDMA devices backed by hardware (a `device` link in sysfs), by name.
    public var devices: [NUMADevice]

    public init(nodes: [NUMANode], devices: [NUMADevice]) {
        self.nodes = nodes
        self.devices = devices
    }

    /// More than one node: placement has something to choose.
    public var hasSeveralNodes: Bool { nodes.count > 1 }

    public func node(_ id: Int) -> NUMANode? { nodes.first { $0.id == id } }

    /// The node whose CPU list holds `cpu`.
    public func node(ofCPU cpu: Int) -> Int? { nodes.first { $0.cpus.contains(cpu) }?.id }

    /// The nodes `cpus` fall on, ascending (CPUs on no known node are left out).
    public func nodes(ofCPUs cpus: [Int]) -> [Int] {
        Array(Set(cpus.compactMap { node(ofCPU: $0) })).sorted()
    }

    public func device(named name: String, kind: NUMADevice.Kind) -> NUMADevice? {
        devices.first { $0.name == name && $0.kind == kind }
    }
}

/// One NUMA node: /sys/devices/system/node/nodeN.
public struct NUMANode: Sendable, Equatable {
    public var id: Int
    /// Its CPUs (`cpulist`), ascending; empty for a memory-only node.
    public var cpus: [Int]
    /// `MemTotal` of its `meminfo`, in bytes; nil when unreadable.
    public var memoryBytes: Int?
    /// Its `distance` line: relative cost to each node by index (10 is local).
    public var distances: [Int]

    public init(id: Int, cpus: [Int], memoryBytes: Int?, distances: [Int]) {
        self.id = id
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.distances = distances
    }
}

/// A device traffic goes through, and its node.
public struct NUMADevice: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// /sys/class/net/NAME
        case net
        /// /sys/class/infiniband/NAME
        case rdma
    }

    public var name: String
    public var kind: Kind
    /// The node its PCI function sits on; nil when the kernel says -1 or nothing (never
    /// guessed as node 0).
    public var node: Int?
    /// For an RDMA device over Ethernet (RoCE, Soft-RoCE): the network interface it uses.
    public var netdev: String?

    public init(name: String, kind: Kind, node: Int?, netdev: String? = nil) {
        self.name = name
        self.kind = kind
        self.node = node
        self.netdev = netdev
    }
}
