import Synchronization
import WeftCore

/// An in-process transport: connections are pairs of heap rings between two IO threads of
/// this process. Addresses are names (`local:node-a` or `node-a`) in a process-wide table.
///
/// It has the semantics of the other transports (reserve/commit in transport memory,
/// borrowed receive views, back-pressure, fragmentation, orderly close, malformed frames
/// closing only their connection) with no socket and no syscall of its own, so actor
/// logic can be unit-tested fast, like ZeroMQ's `inproc`.
public final class LocalTransport: Transport, @unchecked Sendable {
    public let name = "local"
    public let capabilities: TransportCapabilities
    let context: TransportContext
    let ringBytes: Int
    private let nextID = Atomic<UInt64>(1)

    public init(context: TransportContext, ringBytes: Int = 256 << 10) {
        self.context = context
        self.ringBytes = ringBytes
        capabilities = TransportCapabilities(
            reliable: true, ordered: true, maxMessageSize: Int(context.limits.maxMessage),
            maxFramePayload: ringBytes / 4 - LocalRing.lengthWordSize - FrameLayout.headerSize,
            zeroCopyReceive: true, zeroCopySend: true,
            remainingCopies: "none for messages up to a quarter of the ring; larger ones are reassembled by one copy")
    }

    func makeID() -> ConnectionID { ConnectionID(nextID.wrappingAdd(1, ordering: .relaxed).oldValue) }

    public func listen(
        at address: String, options: ConnectionOptions,
        handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener {
        let listener = LocalListener(name: try Self.name(of: address), transport: self, options: options, handlerFactory: handler)
        try LocalDirectory.register(listener)
        return listener
    }

    public func connect(
        to address: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection {
        let name = try Self.name(of: address)
        guard let listener = LocalDirectory.lookup(name) else {
            throw .peerLost("no local listener named '\(name)' in this process")
        }
        let server = listener.transport
        let clientThread = context.runtime.nextThread()
        let serverThread = server.context.runtime.nextThread()
        let toServer = LocalRing(size: min(ringBytes, server.ringBytes), consumerThread: serverThread)
        let toClient = LocalRing(size: min(ringBytes, server.ringBytes), consumerThread: clientThread)
        let clientID = makeID()
        let serverPeer = PeerInfo(
            node: server.context.node, address: "local:\(name)", maxFramePayload: Int(server.context.limits.maxFramePayload))
        let clientPeer = PeerInfo(
            node: context.node, address: "local:\(name)#\(clientID.rawValue)",
            maxFramePayload: Int(context.limits.maxFramePayload))
        let serverConnection = LocalConnection(
            id: server.makeID(), peer: clientPeer, send: toClient, receive: toServer, thread: serverThread,
            context: server.context, options: listener.options, handler: listener.handlerFactory(clientPeer))
        let clientConnection = LocalConnection(
            id: clientID, peer: serverPeer, send: toServer, receive: toClient, thread: clientThread,
            context: context, options: options, handler: handler)
        serverThread.execute { serverConnection.start() }
        clientThread.execute { clientConnection.start() }
        return clientConnection
    }

    /// `local:NAME` or `NAME`.
    static func name(of address: String) throws(TransportError) -> String {
        try EndpointName.parse(address, scheme: "local")
    }
}

/// Registers the in-process transport.
public enum LocalTransportModule {
    public static let descriptor = TransportDescriptor(
        name: "local", summary: "in-process rings between IO threads of one process (tests, single-process deployments)",
        probe: { .available },
        make: { context, _ throws(TransportError) in LocalTransport(context: context) })
}
