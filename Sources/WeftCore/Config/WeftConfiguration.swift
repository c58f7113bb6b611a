/// The resolved settings of one Weft process, validated as a whole.
public struct WeftConfiguration: Sendable, Equatable {
    public var transport: String
    public var progress: ProgressMode
    public var spinWindow: Duration
    public var spinWindowLimit: Duration
    public var ioThreads: Int
    public var ioCPUs: [Int]
    public var numaNode: NUMANodeSetting
    public var appCPUs: [Int]
    public var secretFile: String?
    public var allowUnauthenticatedPeers: Bool
    public var nodeName: String?
    public var maxMessageBytes: Int
    public var reassemblyConnectionBytes: Int
    public var reassemblyProcessBytes: Int
    public var connectTimeout: Duration
    public var maxConnections: Int
    public var heartbeatInterval: Duration
    public var idleTimeout: Duration
    public var shmRingBytes: Int
    public var tcpSendBufferBytes: Int
    public var tcpReceiveBufferBytes: Int
    public var tipcServiceType: UInt32
    public var verbsDevice: String?
    public var verbsBufferSize: Int
    public var verbsReceiveCredits: Int
    public var verbsRendezvousThreshold: Int
    public var verbsRendezvousBytes: Int
    public var logLevel: String

    public init(_ loader: ConfigurationLoader) throws(ConfigurationError) {
        transport = try loader.choice(ConfigKeys.transport)
        progress = ProgressMode(rawValue: try loader.choice(ConfigKeys.progress))!
        spinWindow = .microseconds(try loader.integer(ConfigKeys.spinWindow, in: 0...10_000_000))
        spinWindowLimit = .microseconds(try loader.integer(ConfigKeys.spinWindowLimit, in: 0...10_000_000))
        ioThreads = try loader.integer(ConfigKeys.ioThreads, in: 1...256)
        ioCPUs = try loader.integerList(ConfigKeys.ioCPUs)
        let node = loader.value(ConfigKeys.numaNode)
        guard let numaNode = NUMANodeSetting(parsing: node) else {
            throw .invalid(key: ConfigKeys.numaNode.key, reason: "'\(node)' is not auto, off or a node number")
        }
        self.numaNode = numaNode
        let app = loader.value(ConfigKeys.appCPUs)
        guard let appCPUs = CPUList.parse(app) else {
            throw .invalid(key: ConfigKeys.appCPUs.key, reason: "'\(app)' is not a CPU list such as 2-7,10")
        }
        self.appCPUs = appCPUs
        let secret = loader.value(ConfigKeys.secretFile)
        secretFile = secret.isEmpty ? nil : secret
        allowUnauthenticatedPeers = try loader.choice(ConfigKeys.allowUnauthenticatedPeers) == "true"
        let name = loader.value(ConfigKeys.nodeName)
        nodeName = name.isEmpty ? nil : name
        maxMessageBytes = try loader.integer(ConfigKeys.maxMessage, in: 0...Int(FrameLimits.protocolMaximum))
        reassemblyConnectionBytes = try loader.integer(
            ConfigKeys.reassemblyConnectionBytes, in: 0...Int(FrameLimits.protocolMaximum))
        reassemblyProcessBytes = try loader.integer(ConfigKeys.reassemblyProcessBytes, in: 0...(1 << 40))
        connectTimeout = .milliseconds(try loader.integer(ConfigKeys.connectTimeout, in: 1...3_600_000))
        maxConnections = try loader.integer(ConfigKeys.maxConnections, in: 1...1_000_000)
        let heartbeat = try loader.integer(ConfigKeys.heartbeatInterval, in: 0...3_600_000)
        let idle = try loader.integer(ConfigKeys.idleTimeout, in: 0...3_600_000)
        guard idle == 0 || heartbeat == 0 || idle > heartbeat else {
            throw .invalid(
                key: ConfigKeys.idleTimeout.key,
                reason: "\(idle) ms is not longer than heartbeat-interval-ms (\(heartbeat) ms):"
                    + " healthy idle peers would be dropped")
        }
        heartbeatInterval = .milliseconds(heartbeat)
        idleTimeout = .milliseconds(idle)
        shmRingBytes = try loader.integer(ConfigKeys.shmRingBytes, in: (64 << 10)...(1 << 30))
        guard shmRingBytes & (shmRingBytes - 1) == 0 else {
            throw .invalid(key: ConfigKeys.shmRingBytes.key, reason: "\(shmRingBytes) is not a power of two")
        }
        tcpSendBufferBytes = try loader.integer(ConfigKeys.tcpSendBufferBytes, in: (64 << 10)...(1 << 30))
        tcpReceiveBufferBytes = try loader.integer(ConfigKeys.tcpReceiveBufferBytes, in: (4 << 10)...(1 << 30))
        tipcServiceType = UInt32(try loader.integer(ConfigKeys.tipcServiceType, in: 64...Int(UInt32.max)))
        let device = loader.value(ConfigKeys.verbsDevice)
        verbsDevice = device.isEmpty ? nil : device
        verbsBufferSize = try loader.integer(ConfigKeys.verbsBufferSize, in: 1024...(1 << 20))
        verbsReceiveCredits = try loader.integer(ConfigKeys.verbsReceiveCredits, in: 8...4096)
        verbsRendezvousThreshold = try loader.integer(
            ConfigKeys.verbsRendezvousThreshold, in: 0...Int(FrameLimits.protocolMaximum))
        verbsRendezvousBytes = try loader.integer(ConfigKeys.verbsRendezvousBytes, in: 0...Int(FrameLimits.protocolMaximum))
        logLevel = try loader.choice(ConfigKeys.logLevel)
    }

    public var limits: FrameLimits { FrameLimits(maxMessage: UInt32(maxMessageBytes)) }

    /// Reassembly bounds, drawing on the process's shared pool (whose limit the node sets).
    public var reassembly: ReassemblyLimits { ReassemblyLimits(connectionBytes: reassemblyConnectionBytes) }

    /// This node's identity: derived from `node-name` when set (stable across restarts), else random.
    public var nodeIdentity: NodeIdentity { nodeName.map(NodeIdentity.init(name:)) ?? .random() }
}
