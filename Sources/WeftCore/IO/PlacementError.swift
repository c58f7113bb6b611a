/// Why IO threads or buffers cannot go where the configuration or the plan puts them.
/// Each case reads as one sentence naming the CPU or node and what the cpuset allows.
public enum PlacementError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A CPU outside the cpuset this process was given (Slurm, a cgroup, `taskset`), or one that does not exist.
    case cpuNotAllowed(cpu: Int, allowed: [Int])
    /// The kernel refused to pin an IO thread (`sched_setaffinity`).
    case pinningFailed(thread: String, cpus: [Int], allowed: [Int], error: SystemError)
    /// `numa-node` names a node this machine does not have.
    case unknownNode(Int, known: [Int])
    /// Every CPU of the node is outside the cpuset.
    case nodeNotAllowed(node: Int, nodeCPUs: [Int], allowed: [Int])
    /// `numa-node` asks for a node on a kernel without NUMA support.
    case noNUMA(node: Int)
    /// An IO thread could not be started (epoll, eventfd, `pthread_create`).
    case threadStart(SystemError)

    public var description: String {
        switch self {
        case .cpuNotAllowed(let cpu, let allowed):
            return "CPU \(cpu) is not in this process's cpuset, which allows CPUs \(CPUList.format(allowed))"
                + " (set by taskset, a cgroup or Slurm); pick io-cpus from those."
        case .pinningFailed(let thread, let cpus, let allowed, let error):
            return "IO thread \(thread) could not be pinned to CPUs \(CPUList.format(cpus)) (\(error));"
                + " this process's cpuset allows CPUs \(CPUList.format(allowed))."
        case .unknownNode(let node, let known):
            let nodes = known.isEmpty ? "none" : known.map(String.init).joined(separator: ", ")
            return "numa-node \(node) does not exist on this machine, whose NUMA nodes are \(nodes)."
        case .nodeNotAllowed(let node, let nodeCPUs, let allowed):
            return "numa-node \(node) has CPUs \(CPUList.format(nodeCPUs)), none of them in this process's cpuset,"
                + " which allows CPUs \(CPUList.format(allowed))."
        case .noNUMA(let node):
            return "numa-node \(node) cannot be honoured: this kernel reports no NUMA nodes (use numa-node auto or off)."
        case .threadStart(let error):
            return "an IO thread could not be started: \(error)."
        }
    }
}
