import Logging
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Shared-memory rings between processes of the same user on one host.
///
/// Addresses are names in Linux's abstract Unix-socket namespace (`weft-node1`): the
/// listener's socket only sets connections up (memfd and eventfds pass over SCM_RIGHTS),
/// and vanishes with the process, as does the memory.
public final class SharedMemoryTransport: Transport, @unchecked Sendable {
    public let name = "shm"
    public let capabilities: TransportCapabilities
    let context: TransportContext
    let ringBytes: Int
    private let nextID = Atomic<UInt64>(1)

    public init(context: TransportContext, ringBytes: Int) {
        self.context = context
        self.ringBytes = ringBytes
        let maxFrame = Int(ringBytes / 4) - SharedMemoryLayout.tagSize - FrameLayout.headerSize
        capabilities = TransportCapabilities(
            reliable: true, ordered: true, maxMessageSize: Int(context.limits.maxMessage),
            maxFramePayload: maxFrame, zeroCopyReceive: true, zeroCopySend: true,
            remainingCopies: "none for messages up to a quarter of the ring; larger ones are reassembled by one copy")
        // Before any ring exists (see `GlobalMembarrier.registered`).
        _ = GlobalMembarrier.registered
    }

    /// Ring sizes this side accepts from a connector: up to its own `shm.ring-bytes`, so a peer
    /// cannot make it map more than it was configured for.
    var acceptedRingBytes: ClosedRange<Int> { min(64 << 10, ringBytes)...ringBytes }

    func makeID() -> ConnectionID { ConnectionID(nextID.wrappingAdd(1, ordering: .relaxed).oldValue) }

    public func listen(
        at address: String, options: ConnectionOptions,
        handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener {
        let name = try Self.socketName(address)
        let fd: Int32
        do { fd = try SharedMemorySyscalls.listen(name: name) } catch {
            if error.errno == EADDRINUSE { throw .badAddress("shm address '\(name)' is already in use by another process") }
            throw .system(error)
        }
        let listener = SharedMemoryListener(
            name: name, socket: fd, transport: self, options: options, handlerFactory: handler,
            thread: context.runtime.nextThread())
        do { try listener.ioThread.submitAndWait { () throws(SystemError) in try listener.start() } } catch {
            Glibc.close(fd)
            throw .system(error)
        }
        return listener
    }

    public func connect(
        to address: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection {
        try SharedMemoryConnector(transport: self).connect(name: try Self.socketName(address), options: options, handler: handler)
    }

    /// `shm:NAME`, `@NAME` or `NAME` (a name in the abstract Unix-socket namespace).
    static func socketName(_ address: String) throws(TransportError) -> String {
        try EndpointName.parse(address, scheme: "shm", extraPrefix: "@")
    }
}

/// Registers the shared-memory transport.
public enum SharedMemoryTransportModule {
    public static let descriptor = TransportDescriptor(
        name: "shm", summary: "shared-memory rings between processes of one user on this host",
        probe: { probe() },
        make: { context, configuration throws(TransportError) in
            SharedMemoryTransport(context: context, ringBytes: configuration.shmRingBytes)
        },
        device: { _, _ in .hostMemory })

    /// memfd, eventfd and pidfd are what the transport needs from the kernel.
    static func probe() -> TransportAvailability {
        do {
            let memfd = try SharedMemorySyscalls.memfd(name: "weft-probe")
            Glibc.close(memfd)
            let pidfd = try SharedMemorySyscalls.pidfd(getpid())
            Glibc.close(pidfd)
            return .available
        } catch {
            return .unavailable(reason: "the kernel lacks what shared memory needs: \(error)")
        }
    }
}
