import WeftCore

/// What one transport instance's placement asks for, beside the topology and the cpuset.
public struct PlacementRequest: Sendable, Equatable {
    public var transport: String
    public var threadCount: Int
    /// `io-cpus`: one CPU per thread; wins over `numaNode` for the threads.
    public var ioCPUs: [Int]
    public var numaNode: NUMANodeSetting
    /// `app-cpus`: kept for the application while the chosen CPUs leave others.
    public var appCPUs: [Int]
    /// What the transport's descriptor said it uses.
    public var location: DeviceLocation?
    /// That location resolved to a device of the topology (nil: none found).
    public var device: NUMADevice?

    public init(
        transport: String, threadCount: Int, ioCPUs: [Int] = [], numaNode: NUMANodeSetting = .automatic,
        appCPUs: [Int] = [], location: DeviceLocation? = nil, device: NUMADevice? = nil
    ) {
        self.transport = transport
        self.threadCount = threadCount
        self.ioCPUs = ioCPUs
        self.numaNode = numaNode
        self.appCPUs = appCPUs
        self.location = location
        self.device = device
    }
}

/// Where one transport instance's IO threads run and where its buffers come from, and why.
public struct PlacementPlan: Sendable, Equatable, CustomStringConvertible {
    /// The node buffers come from; nil: wherever they are first touched.
    public var node: Int?
    /// The CPUs of each IO thread (an empty set: not pinned).
    public var threadCPUs: [[Int]]
    /// The device the plan follows, when one was found.
    public var device: NUMADevice?
    /// Why, in one sentence.
    public var reason: String

    public init(node: Int?, threadCPUs: [[Int]], device: NUMADevice? = nil, reason: String) {
        self.node = node
        self.threadCPUs = threadCPUs
        self.device = device
        self.reason = reason
    }

    /// Every CPU an IO thread may run on, ascending; empty when no thread is pinned.
    public var ioCPUs: [Int] { Array(Set(threadCPUs.flatMap { $0 })).sorted() }

    /// What `IORuntime` takes.
    public var ioThreadPlacement: IOThreadPlacement { IOThreadPlacement(threadCPUs: threadCPUs, memoryNode: node) }

    public var description: String {
        let threads = ioCPUs.isEmpty ? "IO threads not pinned" : "IO threads on CPUs \(CPUList.format(ioCPUs))"
        let memory = node.map { "buffers on node \($0)" } ?? "buffers where first touched"
        return "\(threads), \(memory): \(reason)"
    }
}
