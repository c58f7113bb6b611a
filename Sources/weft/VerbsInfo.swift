import WeftVerbs

/// The "verbs" part of `weft info`: each RDMA device with its NUMA node, inline size and
/// ports, or the one sentence that says why there is none.
enum VerbsInfo {
    static func collect() -> (json: JSON, lines: [String]) {
        switch VerbsDeviceReport.collect() {
        case .failure(let error):
            return (
                .object([("devices", .array([])), ("reason", .string(error.description))]),
                ["verbs devices: none (\(error))", ""]
            )
        case .success(let reports):
            let json = JSON.object([
                (
                    "devices",
                    .array(
                        reports.map { report in
                            .object([
                                ("name", .string(report.name)),
                                ("node", report.node.map(JSON.integer) ?? .null),
                                ("max_inline_data", report.maxInlineData.map(JSON.integer) ?? .null),
                                (
                                    "ports",
                                    .array(
                                        report.ports.map { port in
                                            .object([
                                                ("port", .integer(port.number)), ("state", .string(port.state)),
                                                ("link_layer", .string(port.linkLayer)),
                                                ("gids", .array(port.gids.map(JSON.string))),
                                            ])
                                        })
                                ),
                            ])
                        })
                )
            ])
            var lines = ["verbs devices:"]
            if reports.isEmpty { lines.append("  none") }
            for report in reports {
                let node = report.node.map { "node \($0)" } ?? "node unknown"
                let inline = report.maxInlineData.map { "inline \($0) B" } ?? "inline unknown"
                let ports = report.ports.map { "port \($0.number) \($0.state) \($0.linkLayer), \($0.gids.count) GIDs" }
                lines.append("  \(report.name)  \(node), \(inline); \(ports.joined(separator: "; "))")
            }
            lines.append("")
            return (json, lines)
        }
    }
}
