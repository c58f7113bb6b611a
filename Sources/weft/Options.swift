import ArgumentParser
import Weft
import WeftCore

/// The options every command takes: one per configuration key (named after the key table,
/// so `--shm-ring-bytes` is `shm.ring-bytes`), plus `--config FILE`.
///
/// None has a default here: an option left out falls through to `WEFT_*`, then the config
/// file, then the table's default (`ConfigurationLoader`).
struct CommonOptions: ParsableArguments {
    @Option(name: flag(ConfigKeys.transport), help: help(ConfigKeys.transport))
    var transport: String?

    @Option(name: flag(ConfigKeys.progress), help: help(ConfigKeys.progress))
    var progress: String?

    @Option(name: flag(ConfigKeys.spinWindow), help: help(ConfigKeys.spinWindow))
    var spinWindowMicroseconds: String?

    @Option(name: flag(ConfigKeys.spinWindowLimit), help: help(ConfigKeys.spinWindowLimit))
    var spinWindowLimitMicroseconds: String?

    @Option(name: flag(ConfigKeys.ioThreads), help: help(ConfigKeys.ioThreads))
    var ioThreads: String?

    @Option(name: flag(ConfigKeys.ioCPUs), help: help(ConfigKeys.ioCPUs))
    var ioCPUs: String?

    @Option(name: flag(ConfigKeys.numaNode), help: help(ConfigKeys.numaNode))
    var numaNode: String?

    @Option(name: flag(ConfigKeys.appCPUs), help: help(ConfigKeys.appCPUs))
    var appCPUs: String?

    @Option(name: flag(ConfigKeys.secretFile), help: help(ConfigKeys.secretFile))
    var secretFile: String?

    @Option(name: flag(ConfigKeys.allowUnauthenticatedPeers), help: help(ConfigKeys.allowUnauthenticatedPeers))
    var allowUnauthenticatedPeers: String?

    @Option(name: flag(ConfigKeys.nodeName), help: help(ConfigKeys.nodeName))
    var nodeName: String?

    @Option(name: flag(ConfigKeys.maxMessage), help: help(ConfigKeys.maxMessage))
    var maxMessageBytes: String?

    @Option(name: flag(ConfigKeys.reassemblyConnectionBytes), help: help(ConfigKeys.reassemblyConnectionBytes))
    var reassemblyConnectionBytes: String?

    @Option(name: flag(ConfigKeys.reassemblyProcessBytes), help: help(ConfigKeys.reassemblyProcessBytes))
    var reassemblyProcessBytes: String?

    @Option(name: flag(ConfigKeys.connectTimeout), help: help(ConfigKeys.connectTimeout))
    var connectTimeoutMilliseconds: String?

    @Option(name: flag(ConfigKeys.maxConnections), help: help(ConfigKeys.maxConnections))
    var maxConnections: String?

    @Option(name: flag(ConfigKeys.heartbeatInterval), help: help(ConfigKeys.heartbeatInterval))
    var heartbeatIntervalMilliseconds: String?

    @Option(name: flag(ConfigKeys.idleTimeout), help: help(ConfigKeys.idleTimeout))
    var idleTimeoutMilliseconds: String?

    @Option(name: flag(ConfigKeys.shmRingBytes), help: help(ConfigKeys.shmRingBytes))
    var shmRingBytes: String?

    @Option(name: flag(ConfigKeys.tcpSendBufferBytes), help: help(ConfigKeys.tcpSendBufferBytes))
    var tcpSendBufferBytes: String?

    @Option(name: flag(ConfigKeys.tcpReceiveBufferBytes), help: help(ConfigKeys.tcpReceiveBufferBytes))
    var tcpReceiveBufferBytes: String?

    @Option(name: flag(ConfigKeys.tipcServiceType), help: help(ConfigKeys.tipcServiceType))
    var tipcServiceType: String?

    @Option(name: flag(ConfigKeys.verbsDevice), help: help(ConfigKeys.verbsDevice))
    var verbsDevice: String?

    @Option(name: flag(ConfigKeys.verbsBufferSize), help: help(ConfigKeys.verbsBufferSize))
    var verbsBufferSize: String?

    @Option(name: flag(ConfigKeys.verbsReceiveCredits), help: help(ConfigKeys.verbsReceiveCredits))
    var verbsReceiveCredits: String?

    @Option(name: flag(ConfigKeys.verbsRendezvousThreshold), help: help(ConfigKeys.verbsRendezvousThreshold))
    var verbsRendezvousThreshold: String?

    @Option(name: flag(ConfigKeys.verbsRendezvousBytes), help: help(ConfigKeys.verbsRendezvousBytes))
    var verbsRendezvousBytes: String?

    @Option(name: flag(ConfigKeys.logLevel), help: help(ConfigKeys.logLevel))
    var logLevel: String?

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Config file (YAML for .yaml/.yml, else JSON); else WEFT_CONFIG.", valueName: "file"))
    var configFile: String?

    /// A key added to the table must get an option above; caught here in debug builds.
    func validate() throws {
        assert(
            ConfigKeys.all.allSatisfy { Self.coveredKeys.contains($0.key) },
            "a key in ConfigKeys.all has no option in CommonOptions")
    }

    /// Each set option with its key-table spec, in table order.
    var setValues: [(spec: ConfigKeySpec, value: String)] {
        let all: [(ConfigKeySpec, String?)] = [
            (ConfigKeys.transport, transport),
            (ConfigKeys.progress, progress),
            (ConfigKeys.spinWindow, spinWindowMicroseconds),
            (ConfigKeys.spinWindowLimit, spinWindowLimitMicroseconds),
            (ConfigKeys.ioThreads, ioThreads),
            (ConfigKeys.ioCPUs, ioCPUs),
            (ConfigKeys.numaNode, numaNode),
            (ConfigKeys.appCPUs, appCPUs),
            (ConfigKeys.secretFile, secretFile),
            (ConfigKeys.allowUnauthenticatedPeers, allowUnauthenticatedPeers),
            (ConfigKeys.nodeName, nodeName),
            (ConfigKeys.maxMessage, maxMessageBytes),
            (ConfigKeys.reassemblyConnectionBytes, reassemblyConnectionBytes),
            (ConfigKeys.reassemblyProcessBytes, reassemblyProcessBytes),
            (ConfigKeys.connectTimeout, connectTimeoutMilliseconds),
            (ConfigKeys.maxConnections, maxConnections),
            (ConfigKeys.heartbeatInterval, heartbeatIntervalMilliseconds),
            (ConfigKeys.idleTimeout, idleTimeoutMilliseconds),
            (ConfigKeys.shmRingBytes, shmRingBytes),
            (ConfigKeys.tcpSendBufferBytes, tcpSendBufferBytes),
            (ConfigKeys.tcpReceiveBufferBytes, tcpReceiveBufferBytes),
            (ConfigKeys.tipcServiceType, tipcServiceType),
            (ConfigKeys.verbsDevice, verbsDevice),
            (ConfigKeys.verbsBufferSize, verbsBufferSize),
            (ConfigKeys.verbsReceiveCredits, verbsReceiveCredits),
            (ConfigKeys.verbsRendezvousThreshold, verbsRendezvousThreshold),
            (ConfigKeys.verbsRendezvousBytes, verbsRendezvousBytes),
            (ConfigKeys.logLevel, logLevel),
        ]
        return all.compactMap { spec, value in value.map { (spec, $0) } }
    }

    /// Keys of the table that have an option here (every key, checked by `validate`).
    static let coveredKeys: Set<String> = [
        ConfigKeys.transport, ConfigKeys.progress, ConfigKeys.spinWindow, ConfigKeys.spinWindowLimit, ConfigKeys.ioThreads,
        ConfigKeys.ioCPUs, ConfigKeys.numaNode, ConfigKeys.appCPUs, ConfigKeys.secretFile, ConfigKeys.allowUnauthenticatedPeers,
        ConfigKeys.nodeName,
        ConfigKeys.maxMessage, ConfigKeys.reassemblyConnectionBytes, ConfigKeys.reassemblyProcessBytes,
        ConfigKeys.connectTimeout, ConfigKeys.maxConnections, ConfigKeys.heartbeatInterval, ConfigKeys.idleTimeout,
        ConfigKeys.shmRingBytes, ConfigKeys.tcpSendBufferBytes,
        ConfigKeys.tcpReceiveBufferBytes, ConfigKeys.tipcServiceType, ConfigKeys.verbsDevice,
        ConfigKeys.verbsBufferSize, ConfigKeys.verbsReceiveCredits, ConfigKeys.verbsRendezvousThreshold,
        ConfigKeys.verbsRendezvousBytes,
        ConfigKeys.logLevel,
    ].reduce(into: []) { $0.insert($1.key) }

    /// The flags for `ConfigurationLoader`, keyed by table key; `overrides` win over options.
    func flags(overriding overrides: [String: String] = [:]) -> [String: String] {
        var result: [String: String] = [:]
        for (spec, value) in setValues { result[spec.key] = value }
        for (key, value) in overrides { result[key] = value }
        return result
    }

    /// The same settings as arguments for a child `weft` process, without `excluded` keys.
    func forwardedArguments(excluding excluded: Set<String>) -> [String] {
        var arguments: [String] = []
        for (spec, value) in setValues where !excluded.contains(spec.key) {
            arguments += [spec.flag, value]
        }
        if let configFile { arguments += ["--config", configFile] }
        return arguments
    }

    /// Resolves flag > WEFT_* environment > config file > default.
    func load(overriding overrides: [String: String] = [:]) async throws(ConfigurationError) -> LoadedConfiguration {
        let loader = try await ConfigurationLoader.load(
            flags: flags(overriding: overrides), environment: ProcessEnvironment.current(),
            configFile: configFile)
        return LoadedConfiguration(loader: loader, configuration: try WeftConfiguration(loader))
    }
}

/// The loader (for raw per-key values) and the validated configuration.
struct LoadedConfiguration {
    let loader: ConfigurationLoader
    let configuration: WeftConfiguration
}

private func flag(_ spec: ConfigKeySpec) -> NameSpecification {
    .customLong(String(spec.flag.dropFirst(2)))
}

private func help(_ spec: ConfigKeySpec) -> ArgumentHelp {
    var text = spec.summary
    if !spec.choices.isEmpty { text += " (\(spec.choices.joined(separator: "|")))" }
    text += " [\(spec.environmentVariable); default: \(spec.defaultValue.isEmpty ? "none" : spec.defaultValue)]"
    return ArgumentHelp(text, valueName: "value")
}
