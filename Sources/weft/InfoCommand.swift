import ArgumentParser
import WeftCore
import WeftTransports

/// `weft info`: which transports can run here (and why not), and the resolved configuration.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Show each transport (available here or not, and why, and its NUMA placement), the NUMA topology and the resolved configuration.",
        discussion: """
            --config-keys prints the table of configuration keys instead; with --markdown it \
            prints docs/configuration.md (`weft info --config-keys --markdown > docs/configuration.md`).
            """)

    @OptionGroup var common: CommonOptions

    @Flag(
        help:
            "Print one JSON object: {\"transports\": [{name, available, reason, placement}], \"numa\": {nodes, devices}, \"config\": {key: value}}."
    )
    var json = false

    @Flag(name: .customLong("config-keys"), help: "Print every configuration key with its flag, variable, default and meaning.")
    var configKeys = false

    @Flag(help: "With --config-keys: print the table as Markdown.")
    var markdown = false

    mutating func run() async throws {
        let options = self
        try await reportingFailures { try await options.info() }
    }

    private func info() async throws {
        if configKeys {
            // Needs no configuration: it documents it.
            print(markdown ? ConfigDocs.markdown() : ConfigDocs.text(), terminator: markdown ? "" : "\n")
            return
        }
        if markdown { throw CommandFailure.usage("--markdown goes with --config-keys") }
        let loaded = try await common.load()
        let transports = TransportRegistry.builtIn.availability()
        let values = ConfigKeys.all.map { ($0, loaded.loader.value($0)) }
        let numa = PlacementReport()
        let plans = transports.map { numa.plan(for: $0.descriptor, configuration: loaded.configuration) }
        let verbs = VerbsInfo.collect()
        if json {
            let report = JSON.object([
                (
                    "transports",
                    .array(
                        zip(transports, plans).map { entry, plan in
                            .object([
                                ("name", .string(entry.descriptor.name)),
                                ("available", .bool(entry.availability.isAvailable)),
                                ("reason", entry.availability.reason.map(JSON.string) ?? .null),
                                (
                                    "auto_skips_because",
                                    entry.descriptor.unmetRequirement(loaded.configuration).map(JSON.string) ?? .null
                                ),
                                ("placement", PlacementReport.json(plan)),
                            ])
                        })
                ),
                ("numa", numa.json),
                ("verbs", verbs.json),
                ("config", .object(values.map { ($0.0.key, Self.jsonValue($0.1, spec: $0.0)) })),
            ])
            Output.line(report.text)
            return
        }
        var lines = ["transports:"]
        let width = transports.map(\.descriptor.name.count).max() ?? 0
        for (descriptor, availability) in transports {
            let name = descriptor.name.padding(to: width)
            switch availability {
            case .available:
                lines.append("  \(name)  available      \(descriptor.summary)")
                if let unmet = descriptor.unmetRequirement(loaded.configuration) {
                    lines.append("  \(String(repeating: " ", count: width))  (auto skips it: \(unmet))")
                }
            case .unavailable(let reason): lines.append("  \(name)  not available  \(reason)")
            }
        }
        switch Result(catching: { () throws(ConfigurationError) in
            try TransportRegistry.builtIn.resolve(name: TransportRegistry.automatic, configuration: loaded.configuration)
        }) {
        case .success(let chosen):
            lines.append(
                "  (auto picks \(chosen.name): the first available of \(TransportRegistry.builtIn.autoPreference.joined(separator: ", ")))"
            )
        case .failure(let error): lines.append("  (auto: \(error))")
        }
        lines.append("")
        lines += verbs.lines
        lines += numa.lines
        for ((descriptor, _), plan) in zip(transports, plans) {
            lines.append("  \(descriptor.name.padding(to: width))  \(PlacementReport.line(plan))")
        }
        lines.append("")
        lines.append("configuration (flag > WEFT_* environment > config file > default):")
        let keyWidth = values.map(\.0.key.count).max() ?? 0
        for (spec, value) in values {
            lines.append("  \(spec.key.padding(to: keyWidth))  \(value.isEmpty ? "(none)" : value)")
        }
        Output.line(lines.joined(separator: "\n"))
    }

    /// Whole numbers as JSON numbers (for keys without a list of words), the rest as strings.
    private static func jsonValue(_ text: String, spec: ConfigKeySpec) -> JSON {
        if spec.choices.isEmpty, let number = Int(text) { return .integer(number) }
        return .string(text)
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
