/// One configuration key: the single table that the reader, `weft info --config` and
/// docs/configuration.md are all made from.
public struct ConfigKeySpec: Sendable {
    /// Dotted key as written in a config file (`shm.ring-bytes` is `shm: {ring-bytes: …}` in YAML).
    public let key: String
    public let defaultValue: String
    public let summary: String
    /// Accepted values, for keys that take one of a few words.
    public let choices: [String]

    public init(_ key: String, default defaultValue: String, _ summary: String, choices: [String] = []) {
        self.key = key
        self.defaultValue = defaultValue
        self.summary = summary
        self.choices = choices
    }

    /// The command-line flag: `--` and the key with dots as dashes.
    public var flag: String { "--" + key.replacingDots(with: "-") }
    /// The environment variable: `WEFT_` and the key upper-cased, dots and dashes as underscores.
    public var environmentVariable: String { "WEFT_" + key.replacingDots(with: "_").replacingDashes().uppercased() }
}

extension String {
    fileprivate func replacingDots(with separator: String) -> String {
        split(separator: ".", omittingEmptySubsequences: false).joined(separator: separator)
    }
    fileprivate func replacingDashes() -> String {
        split(separator: "-", omittingEmptySubsequences: false).joined(separator: "_")
    }
}

/// Every key Weft reads. Add a key here and it appears in the docs and `weft info --config`.
public enum ConfigKeys {
    public static let transport = ConfigKeySpec(
        "transport", default: "auto",
        "Transport to use; `auto` picks the first one available here of verbs, tipc, shm, tcp.",
        choices: ["auto", "shm", "tcp", "tipc", "verbs"])
    public static let progress = ConfigKeySpec(
        "progress", default: "adaptive",
        "How IO threads wait: `spin` busy-polls, `adaptive` spins for the spin window then sleeps, `sleep` always sleeps.",
        choices: ProgressMode.allCases.map(\.rawValue))
    public static let spinWindow = ConfigKeySpec(
        "spin-window-us", default: "100",
        "Adaptive mode: microseconds an idle IO thread keeps polling before it sleeps.")
    public static let spinWindowLimit = ConfigKeySpec(
        "spin-window-limit-us", default: "1000",
        "Adaptive mode: longest spin window an IO thread learns from the gaps between messages (1.5 times the typical gap); at or below spin-window-us the window stays fixed."
    )
    public static let ioThreads = ConfigKeySpec(
        "io-threads", default: "1", "Number of IO threads; each connection stays on one.")
    public static let ioCPUs = ConfigKeySpec(
        "io-cpus", default: "",
        "Comma-separated CPUs to pin IO threads to, one per thread in order; wins over numa-node (empty: placed by numa-node).")
    public static let numaNode = ConfigKeySpec(
        "numa-node", default: "auto",
        "NUMA node for IO threads and buffers: `auto` (the device's node, else the node of the process's CPUs), `off` (the kernel decides), or a node number."
    )
    public static let appCPUs = ConfigKeySpec(
        "app-cpus", default: "",
        "CPUs kept for the application (for example 2-15): automatic placement keeps IO threads off them while the node has other CPUs."
    )
    public static let secretFile = ConfigKeySpec(
        "secret-file", default: "",
        "File holding the cluster secret (at least 16 bytes, mode 600). Without it TCP listens on loopback only.")
    public static let allowUnauthenticatedPeers = ConfigKeySpec(
        "allow-unauthenticated-peers", default: "false",
        "UNSAFE: without a cluster secret, admit every local user on loopback TCP and every node on TIPC. Leave off on shared machines.",
        choices: ["false", "true"])
    public static let nodeName = ConfigKeySpec(
        "node-name", default: "",
        "Stable name of this node: its identity is derived from it, so it survives restarts (empty: a random identity per start)."
    )
    public static let maxMessage = ConfigKeySpec(
        "max-message-bytes", default: String(FrameLimits.protocolMaximum),
        "Largest message accepted after reassembly; larger frames close the connection.")
    public static let reassemblyConnectionBytes = ConfigKeySpec(
        "reassembly.connection-bytes", default: String(FrameLimits.protocolMaximum),
        "Most memory one connection may use to reassemble a fragmented message (capped by max-message-bytes); a larger one closes that connection (tooLong)."
    )
    public static let reassemblyProcessBytes = ConfigKeySpec(
        "reassembly.process-bytes", default: String(1 << 30),
        "Most memory all connections of this process together may use for reassembly; a fragment that would pass it closes its connection (reassemblyOverBudget)."
    )
    public static let connectTimeout = ConfigKeySpec(
        "connect-timeout-ms", default: "5000",
        "Time allowed for connect plus handshake; a listener drops an accepted peer that has not completed its handshake by then."
    )
    public static let maxConnections = ConfigKeySpec(
        "max-connections", default: "1024",
        "Most connections one listener holds at once (handshaking or open); the next peer is refused and the others are served.")
    public static let heartbeatInterval = ConfigKeySpec(
        "heartbeat-interval-ms", default: "1000",
        "A connection that sent nothing for this long sends a heartbeat, so an idle peer is not taken for a lost one (0: never).")
    public static let idleTimeout = ConfigKeySpec(
        "idle-timeout-ms", default: "5000",
        "A connection that heard nothing (not even a heartbeat) for this long closes with peerLost (0: never); longer than heartbeat-interval-ms. Verbs raises it per connection to outlast its queue pair's retransmissions (docs/transports/verbs.md)."
    )
    public static let shmRingBytes = ConfigKeySpec(
        "shm.ring-bytes", default: String(1 << 20),
        "Shared-memory ring size per direction (power of two, 64 KiB to 1 GiB).")
    public static let tcpSendBufferBytes = ConfigKeySpec(
        "tcp.send-buffer-bytes", default: String(4 << 20),
        "Per-connection buffer of committed frames not yet written; full means back-pressure.")
    public static let tcpReceiveBufferBytes = ConfigKeySpec(
        "tcp.receive-buffer-bytes", default: String(256 << 10),
        "Initial per-connection receive buffer; grows up to one maximum-size frame.")
    public static let tipcServiceType = ConfigKeySpec(
        "tipc.service-type", default: "18888",
        "TIPC service type Weft binds and discovers when an address gives only an instance (or none); 64 and up.")
    public static let verbsDevice = ConfigKeySpec(
        "verbs.device", default: "",
        "RDMA device the verbs transport uses (`mlx5_0`, `rxe0`; empty: the first device with an active port).")
    public static let verbsBufferSize = ConfigKeySpec(
        "verbs.buffer-size", default: "8192",
        "Verbs: bytes of one registered send slot and one receive buffer, the largest frame (header included) one send carries (1 KiB to 1 MiB)."
    )
    public static let verbsReceiveCredits = ConfigKeySpec(
        "verbs.receive-credits", default: "64",
        "Verbs: receive buffers each connection posts for its peer's data frames, which are the peer's send credits (8 to 4096).")
    public static let verbsRendezvousThreshold = ConfigKeySpec(
        "verbs.rendezvous-threshold", default: String(64 << 10),
        "Verbs: payloads larger than this many bytes, or than one buffer, are read by the receiver with RDMA READ instead of sent (0: every message)."
    )
    public static let verbsRendezvousBytes = ConfigKeySpec(
        "verbs.rendezvous-bytes", default: String(4 << 20),
        "Verbs: largest payload one RDMA rendezvous moves; each connection registers two regions of this size, and larger messages go as fragments of it (0: no rendezvous)."
    )
    public static let logLevel = ConfigKeySpec(
        "log-level", default: "info", "Log level.",
        choices: ["trace", "debug", "info", "notice", "warning", "error", "critical"])

    public static let all: [ConfigKeySpec] = [
        transport, progress, spinWindow, spinWindowLimit, ioThreads, ioCPUs, numaNode, appCPUs, secretFile,
        allowUnauthenticatedPeers, nodeName,
        maxMessage, reassemblyConnectionBytes, reassemblyProcessBytes, connectTimeout, maxConnections,
        heartbeatInterval, idleTimeout, shmRingBytes, tcpSendBufferBytes, tcpReceiveBufferBytes, tipcServiceType,
        verbsDevice, verbsBufferSize, verbsReceiveCredits, verbsRendezvousThreshold, verbsRendezvousBytes, logLevel,
    ]
}
