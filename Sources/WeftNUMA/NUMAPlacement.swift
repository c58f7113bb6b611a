import CNUMA
import WeftCore

/// Placement for this process, live: the machine's topology (/sys), the cpuset
/// (`sched_getaffinity`) and the transport's device, handed to `PlacementPlanner`.
public struct NUMAPlacement: Sendable {
    public let topology: NUMATopology
    /// The CPUs this process may use (Slurm, cgroup or `taskset` cpuset).
    public let allowedCPUs: [Int]
    let resolver: DeviceResolver

    public init(topology: NUMATopology, allowedCPUs: [Int], resolver: DeviceResolver = DeviceResolver()) {
        self.topology = topology
        self.allowedCPUs = allowedCPUs
        self.resolver = resolver
    }

    /// Reads this machine. A kernel without NUMA (`numa_available` fails) has no nodes.
    public static func current() throws(SystemError) -> NUMAPlacement {
        var topology = TopologyReader().read()
        if numa_available() < 0 { topology.nodes = [] }
        return NUMAPlacement(topology: topology, allowedCPUs: try ThreadAffinity.current())
    }

    /// The plan for one instance of `descriptor`'s transport that will listen at or connect
    /// to `address` (nil: not known yet).
    public func plan(
        for descriptor: TransportDescriptor, address: String?, configuration: WeftConfiguration
    ) throws(PlacementError) -> PlacementPlan {
        let location = descriptor.device(address, configuration)
        let request = PlacementRequest(
            transport: descriptor.name, threadCount: configuration.ioThreads, ioCPUs: configuration.ioCPUs,
            numaNode: configuration.numaNode, appCPUs: configuration.appCPUs, location: location,
            device: resolver.device(for: location, in: topology))
        return try PlacementPlanner.plan(topology: topology, allowedCPUs: allowedCPUs, request: request)
    }
}
