import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The connecting side: connect by service name and run the handshake on the caller's
/// thread within `connectTimeout` (non-blocking socket, `poll` for every wait), then hand
/// the socket to an IO thread. Each handshake frame is one message, read whole.
enum TIPCConnector {
    static func connect(
        to text: String, context: TransportContext, configuration: TIPCConfiguration, options: ConnectionOptions,
        handler: any ConnectionHandler
    ) throws(TransportError) -> TIPCConnection {
        let endpoint = try TIPCEndpoint(parsing: text, defaultType: configuration.serviceType)
        guard let instance = endpoint.instance else {
            throw .badAddress("'\(text)' names no instance: connect to TYPE:INSTANCE (for example 18888:7)")
        }
        let service = TIPCServiceAddress(type: endpoint.type, instance: instance)
        let deadline = TIPCClock.now + TIPCClock.nanoseconds(context.connectTimeout)
        let (fd, outcome) = try handshake(with: service, context: context, until: deadline)
        let connection = TIPCConnection(
            fd: fd,
            peer: PeerInfo(node: outcome.peerNode, address: service.description, maxFramePayload: outcome.peerMaxFramePayload),
            phase: .open, thread: context.runtime.nextThread(), context: context, configuration: configuration,
            options: options)
        connection.handler = handler
        do {
            try connection.ioThread.submitAndWait { () throws(SystemError) in try connection.start() }
        } catch {
            throw .system(error)
        }
        return connection
    }

    /// Connects to `service` and runs hello → helloReply → auth.
    static func handshake(
        with service: TIPCServiceAddress, context: TransportContext, until deadline: UInt64
    ) throws(TransportError) -> (fd: Int32, outcome: HandshakeOutcome) {
        let fd = try system { () throws(SystemError) in try TIPCSyscalls.openSequentialPacket() }
        var keep = false
        defer { if !keep { TIPCSyscalls.close(fd) } }
        let timedOut = TransportError.timedOut(
            "connecting to the TIPC service \(service) and completing the handshake took longer than \(context.connectTimeout)")
        let connected: Bool
        do {
            connected = try TIPCSyscalls.startConnect(fd, to: service)
        } catch {
            throw refusal(error, service: service)
        }
        if !connected {
            guard try system({ () throws(SystemError) in try TIPCSyscalls.wait(fd, for: TIPCSyscalls.pollOut, until: deadline) })
            else { throw timedOut }
            let code = TIPCSyscalls.pendingError(fd)
            guard code == 0 else { throw refusal(SystemError("connect to \(service)", errno: code), service: service) }
        }
        let handshake = ConnectorHandshake(
            node: context.node, secret: context.secret, maxFramePayload: TIPCConfiguration.maxFramePayload)
        try sendFrame(handshake.firstFrame(), on: fd, until: deadline, timedOut: timedOut)
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: FrameLayout.headerSize + Int(TIPCConnection.handshakeLimits.maxFramePayload), alignment: 8)
        defer { buffer.deallocate() }
        let header = try receiveFrame(on: fd, into: buffer, until: deadline, timedOut: timedOut, service: service)
        let received = UnsafeRawBufferPointer(
            rebasing: buffer[FrameLayout.headerSize..<(FrameLayout.headerSize + Int(header.payloadLength))])
        if header.kind == .close {
            throw .handshakeFailed(
                "the acceptor at \(service) refused the connection: \(String(decoding: received, as: UTF8.self))")
        }
        let (auth, outcome) = try handshake.receiveReply(kind: header.kind, payload: received)
        try sendFrame(auth, on: fd, until: deadline, timedOut: timedOut)
        keep = true
        return (fd, outcome)
    }

    /// What a failed connect means for a user.
    static func refusal(_ error: SystemError, service: TIPCServiceAddress) -> TransportError {
        switch error.errno {
        case ECONNREFUSED, EHOSTUNREACH, ENOENT:
            return .system(
                SystemError("connect to the TIPC service \(service) (nobody in the cluster publishes it)", errno: error.errno))
        default: return .system(error)
        }
    }

    private static func sendFrame(
        _ frame: HandshakeFrame, on fd: Int32, until deadline: UInt64, timedOut: TransportError
    ) throws(TransportError) {
        let encoded = frame.encoded()
        while true {
            let attempt = encoded.withUnsafeBytes { raw in
                Result { () throws(SystemError) in try TIPCSyscalls.send(fd, raw) }
            }
            let sent = try system { () throws(SystemError) in try attempt.get() }
            if sent { return }
            guard try system({ () throws(SystemError) in try TIPCSyscalls.wait(fd, for: TIPCSyscalls.pollOut, until: deadline) })
            else { throw timedOut }
        }
    }

    /// Receives exactly one handshake message into `buffer` and checks it is one whole frame.
    private static func receiveFrame(
        on fd: Int32, into buffer: UnsafeMutableRawBufferPointer, until deadline: UInt64, timedOut: TransportError,
        service: TIPCServiceAddress
    ) throws(TransportError) -> FrameHeader {
        while true {
            let length: Int?
            do {
                length = try TIPCSyscalls.receive(fd, into: buffer)
            } catch {
                if error.errno == EMSGSIZE { throw .protocolViolation(.tooLong(length: buffer.count, limit: buffer.count)) }
                throw .handshakeFailed("the acceptor at \(service) ended the connection during the handshake: \(error)")
            }
            guard let length else {
                guard
                    try system({ () throws(SystemError) in try TIPCSyscalls.wait(fd, for: TIPCSyscalls.pollIn, until: deadline) })
                else { throw timedOut }
                continue
            }
            guard length > 0 else {
                throw .handshakeFailed(
                    "the acceptor at \(service) closed the connection during the handshake"
                        + " (is it a Weft TIPC listener with the same cluster-secret setting?)")
            }
            guard length >= FrameLayout.headerSize else {
                throw .protocolViolation(.truncated(have: length, need: FrameLayout.headerSize))
            }
            switch FrameHeader.decode(from: buffer.baseAddress!, limits: TIPCConnection.handshakeLimits) {
            case .failure(let error): throw .protocolViolation(error)
            case .success(let header):
                guard FrameLayout.headerSize + Int(header.payloadLength) == length else {
                    throw .protocolViolation(.truncated(have: length, need: FrameLayout.headerSize + Int(header.payloadLength)))
                }
                return header
            }
        }
    }

    private static func system<T>(_ body: () throws(SystemError) -> T) throws(TransportError) -> T {
        do { return try body() } catch { throw .system(error) }
    }
}
