import Logging
import Synchronization

/// Identifies a connection within one process.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(rawValue)" }
}

/// Who is on the other end, learned in the handshake.
public struct PeerInfo: Sendable, CustomStringConvertible {
    public var node: NodeIdentity
    public var address: String
    /// The peer's process id, where the transport knows it (shared memory).
    public var processID: Int32?
    public var maxFramePayload: Int

    public init(node: NodeIdentity, address: String, processID: Int32? = nil, maxFramePayload: Int) {
        self.node = node
        self.address = address
        self.processID = processID
        self.maxFramePayload = maxFramePayload
    }

    public var description: String { "\(address) (node \(node))" }
}

/// Receives a connection's frames and its end. Called on the connection's IO thread.
public protocol ConnectionHandler: AnyObject, Sendable {
    /// A data, request or response frame arrived. Release it (or let it go out of
    /// scope) to let the connection deliver the next one.
    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection)
    /// The connection ended: `error` is nil for an orderly close by either side.
    func closed(_ connection: any TransportConnection, error: TransportError?)
}

/// One established connection. Reserve, write in place, commit.
///
/// Sending is single-producer unless the connection was opened with
/// `ConnectionOptions.concurrentSenders`: then reserve…commit holds a lock.
public protocol TransportConnection: AnyObject, Sendable {
    var id: ConnectionID { get }
    var peer: PeerInfo { get }
    /// Largest payload one reservation can hold; larger messages go through `send`.
    var maxReservation: Int { get }
    /// Largest message `send` accepts (this side's `max-message-bytes`; peers are expected to agree).
    var maxMessageSize: Int { get }
    /// Reserves space for a frame with up to `capacity` payload bytes.
    /// Throws `.wouldBlock` when the peer has not drained enough.
    func reserve(capacity: Int) throws(TransportError) -> SendReservation
    /// Reserves room for `frames` frames of up to `capacity` payload bytes each, written in
    /// place and published together by the batch's `commit`. Transports without batches give
    /// room for one frame (a `reserve`). Throws `.wouldBlock` like `reserve`.
    func reserveBatch(frames: Int, capacity: Int) throws(TransportError) -> SendBatch
    /// Pushes committed frames out now (stream transports coalesce them until then;
    /// the IO thread flushes after each batch on its own).
    func flush()
    /// Closes in order: frames committed before are delivered first.
    func close()
    /// True once the connection is closed or failed.
    var isClosed: Bool { get }
    /// The IO thread that drives this connection.
    var ioThread: IOThread { get }
    /// Serialises senders of messages larger than one reservation.
    var largeMessageLock: SendSideLock { get }
}

/// Accepts connections at one address until closed.
public protocol TransportListener: AnyObject, Sendable {
    /// The address peers connect to (with the chosen port when port 0 was asked for).
    var address: String { get }
    func close()
}

/// Settings shared by every transport, fixed at setup.
public struct TransportContext: Sendable {
    public var runtime: IORuntime
    public var node: NodeIdentity
    public var secret: ClusterSecret?
    public var limits: FrameLimits
    public var logger: Logger
    /// Time allowed to connect and complete the handshake, on both sides: an accepted
    /// peer that has not finished its handshake by then is dropped.
    public var connectTimeout: Duration
    /// How long a connection may stay silent before its peer is declared lost (`peerLost`);
    /// zero: never (`idle-timeout-ms`).
    public var idleTimeout: Duration
    /// A connection that sent nothing for this long sends a `heartbeat`; zero: never
    /// (`heartbeat-interval-ms`).
    public var heartbeatInterval: Duration
    /// Most connections one listener holds at once, handshaking or open (`max-connections`).
    public var maxConnections: Int
    /// Memory bounds for reassembling fragmented messages (per connection and per process).
    public var reassembly: ReassemblyLimits

    public init(
        runtime: IORuntime, node: NodeIdentity = .random(), secret: ClusterSecret? = nil,
        limits: FrameLimits = FrameLimits(), logger: Logger = Logger(label: "weft"),
        connectTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(5),
        heartbeatInterval: Duration = .seconds(1), maxConnections: Int = 1024,
        reassembly: ReassemblyLimits = ReassemblyLimits()
    ) {
        self.runtime = runtime
        self.node = node
        self.secret = secret
        self.limits = limits
        self.logger = logger
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.heartbeatInterval = heartbeatInterval
        self.maxConnections = maxConnections
        self.reassembly = reassembly
    }
}

/// Per-connection choices made at setup.
public struct ConnectionOptions: Sendable {
    /// Several threads may send on this connection at once (adds a lock around reserve…commit).
    public var concurrentSenders: Bool

    public init(concurrentSenders: Bool = false) { self.concurrentSenders = concurrentSenders }
}

/// The plugin API every transport implements.
public protocol Transport: AnyObject, Sendable {
    var name: String { get }
    var capabilities: TransportCapabilities { get }
    /// Starts accepting at `address`; `handler` is asked for a handler for each new peer.
    func listen(
        at address: String, options: ConnectionOptions,
        handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener
    /// Connects and completes the handshake before returning.
    func connect(
        to address: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection
}

/// A lock for connections that more than one thread sends on; nil for single-sender connections.
public final class SendSideLock: @unchecked Sendable {
    private let locked = Atomic<Bool>(false)

    public init() {}

    /// Spins briefly, then yields: the lock is held only from reserve to commit.
    @inline(__always)
    public func lock() {
        while locked.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged == false {
            var backoff = Backoff()
            while locked.load(ordering: .relaxed) { backoff.pause() }
        }
    }

    @inline(__always)
    public func unlock() { locked.store(false, ordering: .releasing) }
}

extension TransportConnection {
    /// One frame's reservation: transports that publish frame by frame.
    public func reserveBatch(frames: Int, capacity: Int) throws(TransportError) -> SendBatch {
        SendBatch(single: try reserve(capacity: capacity))
    }

    /// Copies `payload` into transport memory and sends it, fragmenting it when it is larger than
    /// one reservation; waits for send space until `timeout` (never on the connection's own IO thread).
    public func send(
        _ payload: UnsafeRawBufferPointer, header: FrameHeader, timeout: Duration? = .seconds(30)
    ) throws(TransportError) {
        let maxMessage = maxMessageSize
        let deadline = timeout.map { ContinuousClock.now + $0 }
        if payload.count <= maxReservation {
            try FragmentingSender.send(payload, header: header, on: self, maxMessage: maxMessage, waitUntil: deadline)
            return
        }
        // Fragments of two messages must not interleave: one large message at a time.
        largeMessageLock.lock()
        defer { largeMessageLock.unlock() }
        try FragmentingSender.send(payload, header: header, on: self, maxMessage: maxMessage, waitUntil: deadline)
    }
}
