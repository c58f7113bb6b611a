/// A configuration problem, said in one sentence that names the key and the fix.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(key: String, reason: String)
    case unknownTransport(String, available: [String])
    case transportUnavailable(name: String, reason: String, available: [String])
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let key, let reason): return "\(key): \(reason)"
        case .unknownTransport(let name, let available):
            return "unknown transport '\(name)'; this build has: \(available.joined(separator: ", "))"
        case .transportUnavailable(let name, let reason, let available):
            let others = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "transport '\(name)' is not available here: \(reason) (available: \(others))"
        case .unreadableFile(let path, let reason): return "cannot read config file \(path): \(reason)"
        }
    }
}
