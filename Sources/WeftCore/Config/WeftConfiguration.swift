/// The resolved settings of one Weft process, validated as a whole.
public struct WeftConfiguration: Sendable, Equatable {
    public var transport: String
    public var progress: ProgressMode
    public var spinWindow: Duration
    public var ioThreads: Int
    public var ioCPUs: [Int]
    public var secretFile: String?
    public var allowUnauthenticatedPeers: Bool
    public var nodeName: String?
    public var maxMessageBytes: Int
    public var connectTimeout: Duration
    public var shmRingBytes: Int
    public var tcpSendBufferBytes: Int
    public var tcpReceiveBufferBytes: Int
    public var tipcServiceType: UInt32
    public var logLevel: String

    public init(_ loader: ConfigurationLoader) throws(ConfigurationError) {
        transport = try loader.choice(ConfigKeys.transport)
        progress = ProgressMode(rawValue: try loader.choice(ConfigKeys.progress))!
        spinWindow = .microseconds(try loader.integer(ConfigKeys.spinWindow, in: 0...10_000_000))
        ioThreads = try loader.integer(ConfigKeys.ioThreads, in: 1...256)
        ioCPUs = try loader.integerList(ConfigKeys.ioCPUs)
        let secret = loader.value(ConfigKeys.secretFile)
        secretFile = secret.isEmpty ? nil : secret
        allowUnauthenticatedPeers = try loader.choice(ConfigKeys.allowUnauthenticatedPeers) == "true"
        let name = loader.value(ConfigKeys.nodeName)
        nodeName = name.isEmpty ? nil : name
        maxMessageBytes = try loader.integer(ConfigKeys.maxMessage, in: 0...Int(FrameLimits.protocolMaximum))
        connectTimeout = .milliseconds(try loader.integer(ConfigKeys.connectTimeout, in: 1...3_600_000))
        shmRingBytes = try loader.integer(ConfigKeys.shmRingBytes, in: (64 << 10)...(1 << 30))
        guard shmRingBytes & (shmRingBytes - 1) == 0 else {
            throw .invalid(key: ConfigKeys.shmRingBytes.key, reason: "\(shmRingBytes) is not a power of two")
        }
        tcpSendBufferBytes = try loader.integer(ConfigKeys.tcpSendBufferBytes, in: (64 << 10)...(1 << 30))
        tcpReceiveBufferBytes = try loader.integer(ConfigKeys.tcpReceiveBufferBytes, in: (4 << 10)...(1 << 30))
        tipcServiceType = UInt32(try loader.integer(ConfigKeys.tipcServiceType, in: 64...Int(UInt32.max)))
        logLevel = try loader.choice(ConfigKeys.logLevel)
    }

    public var limits: FrameLimits { FrameLimits(maxMessage: UInt32(maxMessageBytes)) }

    /// This node's identity: derived from `node-name` when set (stable across restarts), else random.
    public var nodeIdentity: NodeIdentity { nodeName.map(NodeIdentity.init(name:)) ?? .random() }
}
