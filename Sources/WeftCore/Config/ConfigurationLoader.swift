import Configuration
import SystemPackage

/// Resolves the key table from flags > environment > config file > default,
/// through swift-configuration's providers.
public struct ConfigurationLoader: Sendable {
    let reader: ConfigReader

    /// - Parameters:
    ///   - flags: values the command line set, keyed by table key (`transport`, `shm.ring-bytes`).
    ///   - environment: the process environment; only `WEFT_*` variables are read.
    ///   - configFile: `--config`, else `WEFT_CONFIG`; YAML for `.yaml`/`.yml`, else JSON.
    public static func load(
        flags: [String: String], environment: [String: String], configFile: String? = nil
    ) async throws(ConfigurationError) -> ConfigurationLoader {
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags { flagValues[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.string(value), isSecret: false) }
        var weftEnvironment: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("WEFT_") {
            weftEnvironment[String(name.dropFirst(5))] = value
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flagValues),
            EnvironmentVariablesProvider(environmentVariables: weftEnvironment),
        ]
        if let path = configFile ?? environment["WEFT_CONFIG"], !path.isEmpty {
            providers.append(try await fileProvider(path: path))
        }
        return ConfigurationLoader(reader: ConfigReader(providers: providers))
    }

    private static func fileProvider(path: String) async throws(ConfigurationError) -> any ConfigProvider {
        let isYAML = path.hasSuffix(".yaml") || path.hasSuffix(".yml")
        do {
            if isYAML { return try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)) }
            return try await FileProvider<JSONSnapshot>(filePath: FilePath(path))
        } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
    }

    /// The value of `spec` from the first provider that sets it, else its default.
    public func value(_ spec: ConfigKeySpec) -> String {
        if let text = reader.string(forKey: ConfigKey(spec.key)) { return text }
        // A file may hold numbers and booleans as such.
        if let number = reader.int(forKey: ConfigKey(spec.key)) { return String(number) }
        if let flag = reader.bool(forKey: ConfigKey(spec.key)) { return String(flag) }
        return spec.defaultValue
    }

    public func choice(_ spec: ConfigKeySpec) throws(ConfigurationError) -> String {
        let text = value(spec).lowercased()
        guard spec.choices.contains(text) else {
            throw .invalid(key: spec.key, reason: "'\(text)' is not one of \(spec.choices.joined(separator: ", "))")
        }
        return text
    }

    public func integer(_ spec: ConfigKeySpec, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let text = value(spec)
        guard let number = Int(text.trimmingSpaces()) else {
            throw .invalid(key: spec.key, reason: "'\(text)' is not a whole number")
        }
        guard range.contains(number) else {
            throw .invalid(key: spec.key, reason: "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    public func integerList(_ spec: ConfigKeySpec) throws(ConfigurationError) -> [Int] {
        let text = value(spec)
        var result: [Int] = []
        for part in text.split(separator: ",") {
            guard let number = Int(String(part).trimmingSpaces()), number >= 0 else {
                throw .invalid(key: spec.key, reason: "'\(part)' in '\(text)' is not a CPU number")
            }
            result.append(number)
        }
        return result
    }
}

extension String {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " { view = view.dropFirst() }
        while view.last == " " { view = view.dropLast() }
        return String(view)
    }
}
