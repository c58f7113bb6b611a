import Logging
import WeftCore

/// A server and a client transport on their own IO runtimes, torn down together.
public final class ConformanceHarness: @unchecked Sendable {
    public let subject: any ConformanceSubject
    public let serverRuntime: IORuntime
    public let clientRuntime: IORuntime
    public let server: any Transport
    public let client: any Transport
    public let limits: FrameLimits

    public init(
        _ subject: any ConformanceSubject, progress: ProgressMode = .adaptive,
        limits: FrameLimits = FrameLimits(maxMessage: 4 << 20)
    ) throws {
        self.subject = subject
        self.limits = limits
        var logger = Logger(label: "weft.conformance")
        logger.logLevel = .warning
        serverRuntime = try IORuntime(progress: progress, spinWindow: .microseconds(20), name: "srv")
        clientRuntime = try IORuntime(progress: progress, spinWindow: .microseconds(20), name: "cli")
        server = try subject.makeTransport(context: TransportContext(runtime: serverRuntime, limits: limits, logger: logger))
        client = try subject.makeTransport(context: TransportContext(runtime: clientRuntime, limits: limits, logger: logger))
    }

    public func listen(
        options: ConnectionOptions = ConnectionOptions(), _ handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws -> any TransportListener {
        try server.listen(at: subject.listenAddress(), options: options, handler: handler)
    }

    public func connect(
        to listener: any TransportListener, options: ConnectionOptions = ConnectionOptions(),
        handler: any ConnectionHandler = CollectingHandler()
    ) throws -> any TransportConnection {
        try client.connect(to: listener.address, options: options, handler: handler)
    }

    public func shutdown() {
        clientRuntime.shutdown()
        serverRuntime.shutdown()
    }
}

extension TransportConnection {
    /// Sends `bytes` as one message of `kind`, waiting for space (test threads only).
    public func send(_ bytes: [UInt8], kind: MessageKind = .data, correlation: UInt64 = 0, channel: UInt32 = 0) throws {
        try bytes.withUnsafeBytes { raw in
            try send(raw, header: FrameHeader(kind: kind, channel: channel, correlation: correlation), timeout: .seconds(20))
        }
    }
}

/// Little-endian sequence numbers as payloads.
public enum Sequence64 {
    public static func bytes(_ value: UInt64, sender: UInt64 = 0) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) } + withUnsafeBytes(of: sender.littleEndian) { Array($0) }
    }

    public static func value(_ bytes: [UInt8]) -> (value: UInt64, sender: UInt64) {
        bytes.withUnsafeBytes {
            (
                UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)),
                UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }
}

/// A recognisable payload of `size` bytes.
public func patternBytes(_ size: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}
