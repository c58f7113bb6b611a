import WeftCore

/// Decides a transport instance's placement from the topology, the cpuset and the
/// configuration. Pure: no file, no system call, so recorded machines test it.
///
/// In order:
/// 1. `io-cpus`: thread *i* on CPU *i*, each in the cpuset (else an error); buffers on
///    `numa-node` N when given, else on the CPUs' node when they share one.
/// 2. `numa-node off`: nothing pinned, no memory policy.
/// 3. `numa-node N`: threads on N's CPUs in the cpuset (minus `app-cpus` while others
///    remain), buffers on N; a node that does not exist or has no allowed CPU is an error.
/// 4. `auto` on a machine with several nodes: the device's node when the transport named a
///    device whose node is known and the cpuset reaches it; else the process's CPUs, and
///    their node when they sit on one.
/// 5. `auto` on one node (or none): nothing to choose; threads are pinned only to keep them
///    off `app-cpus`.
/// Every IO thread of the instance gets the same CPU set in 3 and 4: the kernel spreads
/// them over the node, and two processes planned alike do not pile onto one core.
public enum PlacementPlanner {
    public static func plan(
        topology: NUMATopology, allowedCPUs: [Int], request: PlacementRequest
    ) throws(PlacementError) -> PlacementPlan {
        let threads = request.threadCount
        let unpinned = [[Int]](repeating: [], count: threads)
        if !request.ioCPUs.isEmpty {
            if let outside = request.ioCPUs.prefix(threads).first(where: { !allowedCPUs.contains($0) }) {
                throw .cpuNotAllowed(cpu: outside, allowed: allowedCPUs)
            }
            var node: Int?
            var why = "io-cpus pins IO thread i to CPU i of \(CPUList.format(request.ioCPUs))"
            if case .node(let wanted) = request.numaNode {
                _ = try checkedNode(wanted, topology: topology, allowedCPUs: allowedCPUs)
                node = wanted
                why += "; numa-node \(wanted) places the buffers"
            } else if topology.hasSeveralNodes, topology.nodes(ofCPUs: request.ioCPUs).count == 1 {
                node = topology.nodes(ofCPUs: request.ioCPUs)[0]
                why += "; buffers on those CPUs' node"
            }
            let cpus = (0..<threads).map { $0 < request.ioCPUs.count ? [request.ioCPUs[$0]] : [] }
            return PlacementPlan(node: node, threadCPUs: cpus, device: request.device, reason: why)
        }
        switch request.numaNode {
        case .off:
            return PlacementPlan(
                node: nil, threadCPUs: unpinned, device: request.device,
                reason: "numa-node off: the kernel places IO threads and buffers")
        case .node(let wanted):
            let cpus = try checkedNode(wanted, topology: topology, allowedCPUs: allowedCPUs)
            let chosen = leavingAppCPUs(cpus, request.appCPUs)
            return PlacementPlan(
                node: wanted, threadCPUs: [[Int]](repeating: chosen, count: threads), device: request.device,
                reason: "numa-node \(wanted) asks for node \(wanted)")
        case .automatic:
            return automatic(topology: topology, allowedCPUs: allowedCPUs, request: request)
        }
    }

    /// The node's CPUs in the cpuset, or why there are none.
    static func checkedNode(_ id: Int, topology: NUMATopology, allowedCPUs: [Int]) throws(PlacementError) -> [Int] {
        guard !topology.nodes.isEmpty else { throw .noNUMA(node: id) }
        guard let node = topology.node(id) else { throw .unknownNode(id, known: topology.nodes.map(\.id)) }
        let cpus = node.cpus.filter(allowedCPUs.contains)
        guard !cpus.isEmpty else { throw .nodeNotAllowed(node: id, nodeCPUs: node.cpus, allowed: allowedCPUs) }
        return cpus
    }

    /// `cpus` without the application's CPUs, unless that leaves nothing.
    static func leavingAppCPUs(_ cpus: [Int], _ appCPUs: [Int]) -> [Int] {
        let rest = cpus.filter { !appCPUs.contains($0) }
        return rest.isEmpty ? cpus : rest
    }

    static func automatic(topology: NUMATopology, allowedCPUs: [Int], request: PlacementRequest) -> PlacementPlan {
        let threads = request.threadCount
        let processCPUs = leavingAppCPUs(allowedCPUs, request.appCPUs)
        let keepsAppCPUsFree = processCPUs != allowedCPUs
        guard topology.hasSeveralNodes else {
            let machine =
                topology.nodes.isEmpty
                ? "this kernel reports no NUMA nodes" : "this machine has one NUMA node"
            return PlacementPlan(
                node: nil, threadCPUs: [[Int]](repeating: keepsAppCPUsFree ? processCPUs : [], count: threads),
                device: request.device,
                reason: keepsAppCPUsFree
                    ? "\(machine); IO threads only stay off app-cpus" : "\(machine), so there is nothing to place")
        }
        var note = ""
        if let device = request.device {
            if let node = device.node {
                let cpus = topology.node(node)?.cpus.filter(allowedCPUs.contains) ?? []
                if !cpus.isEmpty {
                    return PlacementPlan(
                        node: node, threadCPUs: [[Int]](repeating: leavingAppCPUs(cpus, request.appCPUs), count: threads),
                        device: device, reason: "\(request.transport) uses \(device.name), which sits on node \(node)")
                }
                note = "\(device.name) sits on node \(node), outside this process's cpuset; "
            } else {
                note = "\(device.name)'s NUMA node is unknown; "
            }
        } else if let location = request.location, location != .hostMemory {
            note = "no device found for \(location); "
        }
        let nodes = topology.nodes(ofCPUs: processCPUs)
        if nodes.count == 1 {
            return PlacementPlan(
                node: nodes[0], threadCPUs: [[Int]](repeating: processCPUs, count: threads), device: request.device,
                reason: note + "the process's CPUs \(CPUList.format(processCPUs)) are on node \(nodes[0])")
        }
        return PlacementPlan(
            node: nil, threadCPUs: [[Int]](repeating: keepsAppCPUsFree ? processCPUs : [], count: threads),
            device: request.device,
            reason: note
                + "the process's CPUs \(CPUList.format(processCPUs)) span nodes \(nodes.map(String.init).joined(separator: ", "))"
        )
    }
}
