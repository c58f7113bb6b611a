import WeftCore
import WeftNUMA

/// The NUMA part of `weft info`: the topology, and the plan each transport would get
/// here (with no address given, so network transports follow the default route's NIC).
struct PlacementReport {
    let placement: NUMAPlacement?
    /// Why the machine could not be read (sched_getaffinity failed).
    let failure: String?

    init() {
        do {
            placement = try NUMAPlacement.current()
            failure = nil
        } catch {
            placement = nil
            failure = error.description
        }
    }

    /// The plan for `descriptor`, or the one sentence why there is none.
    func plan(for descriptor: TransportDescriptor, configuration: WeftConfiguration) -> Result<PlacementPlan, PlacementError>? {
        guard let placement else { return nil }
        return Result { () throws(PlacementError) in
            try placement.plan(for: descriptor, address: nil, configuration: configuration)
        }
    }

    // MARK: Text

    var lines: [String] {
        guard let placement else { return ["numa: cannot read this machine: \(failure ?? "unknown")"] }
        let topology = placement.topology
        let allowed = "this process may use CPUs \(CPUList.format(placement.allowedCPUs))"
        var lines: [String]
        switch topology.nodes.count {
        case 0:
            lines = ["numa: this kernel reports no NUMA nodes: IO threads are pinned only by io-cpus or app-cpus (\(allowed))"]
        case 1:
            lines = [
                "numa: this machine has one NUMA node: nothing to place by node; io-cpus and app-cpus still pin (\(allowed))"
            ]
        default: lines = ["numa: \(topology.nodes.count) nodes (\(allowed))"]
        }
        for node in topology.nodes {
            let memory = node.memoryBytes.map { "\(($0 + (1 << 29)) >> 30) GiB" } ?? "unknown"
            let distances = node.distances.map(String.init).joined(separator: " ")
            lines.append("  node \(node.id)  CPUs \(CPUList.format(node.cpus))  memory \(memory)  distances \(distances)")
        }
        let devices = topology.devices.map { "\($0.name) (\($0.kind.rawValue)) node \($0.node.map(String.init) ?? "unknown")" }
        lines.append("  devices: \(devices.isEmpty ? "none" : devices.joined(separator: ", "))")
        return lines
    }

    static func line(_ plan: Result<PlacementPlan, PlacementError>?) -> String {
        switch plan {
        case .success(let plan): return "placement: \(plan)"
        case .failure(let error): return "placement: \(error)"
        case nil: return "placement: unknown"
        }
    }

    // MARK: JSON

    /// `{"nodes": [{"id", "cpus", "memory_bytes", "distances"}], "devices": [{"name", "kind", "node"}], "allowed_cpus": […]}`
    var json: JSON {
        guard let placement else { return .object([("error", .string(failure ?? "unknown"))]) }
        let topology = placement.topology
        return .object([
            (
                "nodes",
                .array(
                    topology.nodes.map { node in
                        .object([
                            ("id", .integer(node.id)), ("cpus", .array(node.cpus.map(JSON.integer))),
                            ("memory_bytes", node.memoryBytes.map(JSON.integer) ?? .null),
                            ("distances", .array(node.distances.map(JSON.integer))),
                        ])
                    })
            ),
            (
                "devices",
                .array(
                    topology.devices.map { device in
                        .object([
                            ("name", .string(device.name)), ("kind", .string(device.kind.rawValue)),
                            ("node", device.node.map(JSON.integer) ?? .null),
                        ])
                    })
            ),
            ("allowed_cpus", .array(placement.allowedCPUs.map(JSON.integer))),
        ])
    }

    /// `{"node": N or null, "io_cpus": […], "device": name or null, "reason": "…"}` or `{"error": "…"}`.
    static func json(_ plan: Result<PlacementPlan, PlacementError>?) -> JSON {
        switch plan {
        case .success(let plan):
            return .object([
                ("node", plan.node.map(JSON.integer) ?? .null), ("io_cpus", .array(plan.ioCPUs.map(JSON.integer))),
                ("device", plan.device.map { JSON.string($0.name) } ?? .null), ("reason", .string(plan.reason)),
            ])
        case .failure(let error): return .object([("error", .string(error.description))])
        case nil: return .null
        }
    }
}
