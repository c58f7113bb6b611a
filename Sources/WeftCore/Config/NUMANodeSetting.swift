/// The `numa-node` key: where IO threads and buffers go when `io-cpus` does not say.
public enum NUMANodeSetting: Sendable, Equatable, CustomStringConvertible {
    /// On the node of the transport's device, else the process's CPUs' node.
    case automatic
    /// No pinning and no memory policy: the kernel decides.
    case off
    /// This node's CPUs and memory, whatever the device.
    case node(Int)

    /// `auto`, `off` or a node number; nil for anything else.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "auto", "": self = .automatic
        case "off": self = .off
        default:
            guard let node = Int(text), node >= 0, node < 1024 else { return nil }
            self = .node(node)
        }
    }

    public var description: String {
        switch self {
        case .automatic: return "auto"
        case .off: return "off"
        case .node(let node): return String(node)
        }
    }
}
