import CWeftTCP
import Logging
import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

/// Every TCP test suite runs inside this one, one test at a time: the machine has two
/// cores, and the tests use real sockets on loopback only.
@Suite(.serialized) struct TCPTests {}

/// A server and a client TCP transport on their own IO runtimes (sleep or adaptive:
/// never busy-poll in tests), with the server's log captured.
final class TCPPair: @unchecked Sendable {
    let serverRuntime: IORuntime
    let clientRuntime: IORuntime
    let server: TCPTransport
    let client: TCPTransport
    let serverLog = TCPCapturedLog()

    init(
        progress: ProgressMode = .sleep, serverSecret: ClusterSecret? = nil, clientSecret: ClusterSecret? = nil,
        serverLimits: FrameLimits = FrameLimits(maxMessage: 8 << 20),
        clientLimits: FrameLimits = FrameLimits(maxMessage: 8 << 20),
        connectTimeout: Duration = .seconds(5), configuration: TCPConfiguration = TCPConfiguration(),
        serverReassembly: ReassemblyLimits = ReassemblyLimits(), idleTimeout: Duration = .seconds(5),
        heartbeatInterval: Duration = .seconds(1), maxConnections: Int = 1024
    ) throws {
        serverRuntime = try IORuntime(progress: progress, spinWindow: .microseconds(20), name: "tcp-srv")
        clientRuntime = try IORuntime(progress: progress, spinWindow: .microseconds(20), name: "tcp-cli")
        var clientLogger = Logger(label: "weft.test.client")
        clientLogger.logLevel = .critical
        server = TCPTransport(
            context: TransportContext(
                runtime: serverRuntime, secret: serverSecret, limits: serverLimits, logger: serverLog.logger,
                connectTimeout: connectTimeout, idleTimeout: idleTimeout, heartbeatInterval: heartbeatInterval,
                maxConnections: maxConnections, reassembly: serverReassembly),
            configuration: configuration)
        client = TCPTransport(
            context: TransportContext(
                runtime: clientRuntime, secret: clientSecret, limits: clientLimits, logger: clientLogger,
                connectTimeout: connectTimeout, idleTimeout: idleTimeout, heartbeatInterval: heartbeatInterval),
            configuration: configuration)
    }

    func listen(
        at address: String = "127.0.0.1:0", options: ConnectionOptions = ConnectionOptions(),
        _ handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws -> any TransportListener {
        try server.listen(at: address, options: options, handler: handler)
    }

    func connect(
        to listener: any TransportListener, options: ConnectionOptions = ConnectionOptions(),
        handler: any ConnectionHandler = CollectingHandler()
    ) throws -> TCPConnection {
        try client.connect(to: listener.address, options: options, handler: handler) as! TCPConnection
    }

    func shutdown() {
        clientRuntime.shutdown()
        serverRuntime.shutdown()
    }
}

/// Log lines, kept for checks ("the acceptor logs why it closed").
final class TCPCapturedLog: @unchecked Sendable {
    private let lines = Locked<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "weft.test.server") { _ in TCPCapturingLogHandler(sink: self) }
        logger.logLevel = .debug
        return logger
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }

    /// Waits up to `timeout` for a line containing `text`.
    func wait(for text: String, timeout: Duration = .seconds(10)) -> Bool {
        tcpWaitUntil(timeout: timeout) { self.contains(text) }
    }
}

struct TCPCapturingLogHandler: LogHandler {
    let sink: TCPCapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.append("\(event.level): \(event.message)")
    }
}

/// Polls `condition` every millisecond until it holds or `timeout` passes.
func tcpWaitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        usleep(1000)
    }
    return true
}

/// A cluster secret file with `mode`, removed by `remove()`.
struct TCPSecretFile {
    let path: String

    init(contents: String = "a-test-secret-of-more-than-sixteen-bytes", mode: mode_t = 0o600) throws {
        path = "/tmp/weft-tcp-secret-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)
        guard fd >= 0 else { throw SystemError("open \(path)", errno: errno) }
        _ = contents.withCString { write(fd, $0, strlen($0)) }
        Glibc.close(fd)
        chmod(path, mode)
    }

    func load() throws -> ClusterSecret { try ClusterSecret.load(path: path) }
    func remove() { unlink(path) }
}

/// A socket the test drives by hand: garbage, truncated frames, silence.
final class TCPRawClient {
    let fd: Int32

    /// Connects without any handshake.
    init(connectingTo text: String) throws {
        let address = try TCPSocket.resolve(TCPEndpoint(parsing: text), passive: false)[0]
        fd = try TCPSocket.open(family: address.family)
        if try !TCPSocket.startConnect(fd, to: address) {
            guard try TCPSocket.wait(fd, for: CWEFT_TCP_POLLOUT, until: TCPClock.now + 5_000_000_000),
                TCPSocket.pendingError(fd) == 0
            else { throw TransportError.timedOut("raw connect to \(text)") }
        }
    }

    /// Connects and completes a real handshake as `context` (its node, secret and limits).
    init(handshakingWith text: String, context: TransportContext) throws {
        let address = try TCPSocket.resolve(TCPEndpoint(parsing: text), passive: false)[0]
        fd = try TCPConnector.handshake(with: address, context: context, until: TCPClock.now + 5_000_000_000).fd
    }

    deinit { TCPSocket.close(fd) }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = try bytes.withUnsafeBytes { raw in
                try TCPSocket.send(fd, raw.baseAddress! + offset, raw.count - offset, nil, 0)
            }
            if let written {
                offset += written
            } else {
                _ = try TCPSocket.wait(fd, for: CWEFT_TCP_POLLOUT, until: TCPClock.now + 5_000_000_000)
            }
        }
    }

    func shutdownWriting() { TCPSocket.shutdownWrite(fd) }

    /// Reads until the peer closes (or resets) the connection; nil if it stays open past `timeout`.
    func readUntilClosed(timeout: Duration = .seconds(10)) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = TCPClock.now + TCPClock.nanoseconds(timeout)
        while true {
            let count: Int?
            do {
                count = try chunk.withUnsafeMutableBytes { try TCPSocket.receive(fd, into: $0.baseAddress!, count: $0.count) }
            } catch {
                return bytes  // reset: closed too
            }
            if let count {
                if count == 0 { return bytes }
                bytes += chunk[0..<count]
                continue
            }
            guard (try? TCPSocket.wait(fd, for: CWEFT_TCP_POLLIN, until: deadline)) == true else { return nil }
        }
    }
}

/// Frame bytes as a peer would put them on the stream: header, payload, zero padding.
func tcpWireFrame(_ header: FrameHeader, payload: [UInt8] = [], padded: Bool = true) -> [UInt8] {
    var header = header
    header.payloadLength = UInt32(payload.count)
    var bytes = [UInt8](repeating: 0, count: FrameLayout.headerSize)
    bytes.withUnsafeMutableBytes { header.encode(to: $0.baseAddress!) }
    bytes += payload
    if padded { bytes += [UInt8](repeating: 0, count: FrameHeader.paddedFrameSize(payload: payload.count) - bytes.count) }
    return bytes
}

/// The first frame in `bytes` (a close frame the server sent before closing, for example).
func tcpFirstFrame(in bytes: [UInt8]) -> (header: FrameHeader, payload: [UInt8])? {
    guard bytes.count >= FrameLayout.headerSize else { return nil }
    return bytes.withUnsafeBytes { raw -> (FrameHeader, [UInt8])? in
        guard case .success(let header) = FrameHeader.decode(from: raw.baseAddress!, limits: FrameLimits()) else { return nil }
        let end = FrameLayout.headerSize + Int(header.payloadLength)
        guard bytes.count >= end else { return nil }
        return (header, Array(bytes[FrameLayout.headerSize..<end]))
    }
}

/// A transport context for hand-made peers (raw clients).
func tcpRawContext(runtime: IORuntime, secret: ClusterSecret? = nil) -> TransportContext {
    TransportContext(runtime: runtime, secret: secret, limits: FrameLimits())
}

/// The same bytes as `patternBytes`, made without a closure per byte (debug builds are slow at that).
func tcpPattern(_ size: Int, seed: UInt8 = 0) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        var value = seed
        for index in 0..<size {
            buffer[index] = value
            value &+= 31
        }
        count = size
    }
}
