import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The connecting side's setup, on the caller's thread: create the region, hand it over
/// with a hello, check the reply and the acceptor's credentials, start the connection.
struct SharedMemoryConnector {
    let transport: SharedMemoryTransport

    func connect(
        name: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> SharedMemoryConnection {
        let context = transport.context
        var cleanup = DescriptorCleanup()
        defer { cleanup.closeAll() }

        let socket: Int32
        do { socket = try SharedMemorySyscalls.connect(name: name) } catch {
            if error.errno == ECONNREFUSED || error.errno == ENOENT {
                throw .badAddress("no shared-memory listener named '\(name)' on this host")
            }
            throw .system(error)
        }
        cleanup.add(socket)
        // The kernel tells who listens before anything is sent: only this user's processes talk.
        let credentials: (pid: Int32, uid: UInt32)
        do { credentials = try SharedMemorySyscalls.peerCredentials(socket) } catch { throw .system(error) }
        guard credentials.uid == geteuid() else {
            throw .handshakeFailed(
                "the shared-memory listener '\(name)' belongs to uid \(credentials.uid), and shared memory connects only processes of the same user (this is uid \(geteuid()))"
            )
        }
        SharedMemorySyscalls.setReceiveTimeout(socket, milliseconds: context.connectTimeout.wholeMilliseconds)

        let region: SharedMemoryRegion
        let memfd: Int32
        let ownWake: Int32
        do {
            (region, memfd) = try SharedMemoryRegion.create(
                ringBytes: transport.ringBytes, connectorMode: context.runtime.progress,
                node: context.runtime.placement.memoryNode)
            cleanup.add(memfd)
            ownWake = try SharedMemorySyscalls.eventFD()
            cleanup.add(ownWake)
        } catch { throw .system(error) }

        let handshake = ConnectorHandshake(node: context.node, secret: nil, maxFramePayload: Int(context.limits.maxFramePayload))
        do {
            try SharedMemoryHandshakeMessage.send(handshake.firstFrame(), fds: [memfd, ownWake], on: socket)
        } catch {
            // A listener at its cap may answer and close before the hello arrives: its reason waits here.
            if let refusal = Self.refusal(on: socket, name: name, limits: context.limits) { throw refusal }
            throw error
        }
        cleanup.closeNow(memfd)  // the region keeps its mapping; the peer has its own descriptor

        let received: (bytes: [UInt8], fds: [Int32])?
        do { received = try SharedMemorySyscalls.receive(socket, capacity: SharedMemoryHandshakeMessage.maxSize) } catch {
            if error.errno == EAGAIN { throw .timedOut("no handshake reply from shared-memory peer '\(name)'") }
            throw .system(error)
        }
        guard let received else { throw .handshakeFailed("the shared-memory peer '\(name)' closed during the handshake") }
        let reply = try SharedMemoryHandshakeMessage.decode(received, limits: context.limits)
        for fd in reply.fds { cleanup.add(fd) }
        if reply.kind == .close { throw Self.refused(name: name, reason: reply.payload) }
        guard reply.fds.count == 1 else {
            throw .handshakeFailed("helloReply carried \(reply.fds.count) descriptors, expected 1")
        }
        let (auth, outcome) = try reply.payload.withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try handshake.receiveReply(kind: reply.kind, payload: bytes) }
        }.get()
        try SharedMemoryHandshakeMessage.send(auth, fds: [], on: socket)

        let pidfd: Int32
        do { pidfd = try SharedMemorySyscalls.pidfd(credentials.pid) } catch { throw .system(error) }
        cleanup.add(pidfd)

        let thread = context.runtime.nextThread()
        let connection = SharedMemoryConnection(
            id: transport.makeID(),
            peer: PeerInfo(
                node: outcome.peerNode, address: "shm:\(name)", processID: credentials.pid,
                maxFramePayload: outcome.peerMaxFramePayload),
            region: region, sendRing: 0,
            descriptors: .init(socket: socket, ownWake: ownWake, peerWake: reply.fds[0], peerProcess: pidfd),
            thread: thread, context: context, options: options, handler: handler)
        // The connection owns the descriptors now, whether or not it starts.
        cleanup.keepAll()
        do { try thread.submitAndWait { () throws(SystemError) in try connection.start() } } catch {
            connection.discardIfNeverStarted()
            throw .system(error)
        }
        return connection
    }

    /// The listener's refusal (a close message with its reason), if one is waiting on `socket`.
    private static func refusal(on socket: Int32, name: String, limits: FrameLimits) -> TransportError? {
        guard let received = try? SharedMemorySyscalls.receive(socket, capacity: SharedMemoryHandshakeMessage.maxSize),
            let message = try? SharedMemoryHandshakeMessage.decode(received, limits: limits)
        else { return nil }
        SharedMemoryHandshakeMessage.closeAll(message.fds)
        return message.kind == .close ? refused(name: name, reason: message.payload) : nil
    }

    private static func refused(name: String, reason: [UInt8]) -> TransportError {
        .handshakeFailed(
            "the shared-memory listener '\(name)' refused the connection: \(String(decoding: reason, as: UTF8.self))")
    }
}

/// Closes the descriptors of a setup that failed half-way.
struct DescriptorCleanup {
    private var fds: [Int32] = []

    mutating func add(_ fd: Int32) { fds.append(fd) }

    mutating func closeNow(_ fd: Int32) {
        Glibc.close(fd)
        fds.removeAll { $0 == fd }
    }

    mutating func keepAll() { fds.removeAll() }

    mutating func closeAll() {
        for fd in fds { Glibc.close(fd) }
        fds.removeAll()
    }
}
