import WeftCore
import WeftTransports

/// The configuration of a barrels process, resolved like the `weft` CLI's:
/// flag > WEFT_* environment > config file > default.
public enum GameConfiguration {
    /// `flags` are keyed by table key (`transport`, `shm.ring-bytes`).
    public static func load(
        flags: [String: String], environment: [String: String], configFile: String?
    ) async throws -> (WeftConfiguration, TransportDescriptor) {
        let loader = try await ConfigurationLoader.load(flags: flags, environment: environment, configFile: configFile)
        let configuration = try WeftConfiguration(loader)
        return (configuration, try TransportRegistry.builtIn.resolve(name: configuration.transport, configuration: configuration))
    }
}
