internal import CWeftTCP
import WeftCore

/// The connecting side: connect and handshake on the caller's thread within
/// `connectTimeout` (non-blocking socket, `poll` for every wait), then hand the socket to
/// an IO thread. Reads take exactly the handshake frames, so data the acceptor sends right
/// after the handshake stays in the socket for the IO thread.
enum TCPConnector {
    static func connect(
        to text: String, context: TransportContext, configuration: TCPConfiguration, options: ConnectionOptions,
        handler: any ConnectionHandler
    ) throws(TransportError) -> TCPConnection {
        let endpoint = try TCPEndpoint(parsing: text)
        let deadline = TCPClock.now + TCPClock.nanoseconds(context.connectTimeout)
        var failure = TransportError.badAddress("'\(text)' resolves to no address")
        for address in try TCPSocket.resolve(endpoint, passive: false) {
            let established: (fd: Int32, outcome: HandshakeOutcome)
            do {
                established = try handshake(with: address, context: context, until: deadline)
            } catch {
                failure = error
                // Refused or unreachable: a name may have another address to try.
                if case .system = error { continue }
                throw error
            }
            let peer = PeerInfo(
                node: established.outcome.peerNode, address: address.description,
                maxFramePayload: established.outcome.peerMaxFramePayload)
            let connection = TCPConnection(
                fd: established.fd, peer: peer, phase: .open, thread: context.runtime.nextThread(), context: context,
                configuration: configuration, options: options)
            connection.handler = handler
            do {
                try connection.ioThread.submitAndWait { () throws(SystemError) in try connection.start() }
            } catch {
                throw .system(error)
            }
            return connection
        }
        throw failure
    }

    /// Connects to `address` and runs hello → helloReply → auth. Returns the socket
    /// (non-blocking, TCP_NODELAY) and what the acceptor said.
    static func handshake(
        with address: TCPAddress, context: TransportContext, until deadline: UInt64
    ) throws(TransportError) -> (fd: Int32, outcome: HandshakeOutcome) {
        let fd = try system { () throws(SystemError) in try TCPSocket.open(family: address.family) }
        var keep = false
        defer { if !keep { TCPSocket.close(fd) } }
        let timedOut = TransportError.timedOut(
            "connecting to \(address) and completing the handshake took longer than \(context.connectTimeout)")
        let connected = try system { () throws(SystemError) in try TCPSocket.startConnect(fd, to: address) }
        if !connected {
            guard try system({ () throws(SystemError) in try TCPSocket.wait(fd, for: CWEFT_TCP_POLLOUT, until: deadline) })
            else { throw timedOut }
            let code = TCPSocket.pendingError(fd)
            guard code == 0 else { throw .system(SystemError("connect to \(address)", errno: code)) }
        }
        try system { () throws(SystemError) in try TCPSocket.setNoDelay(fd) }

        let handshake = ConnectorHandshake(
            node: context.node, secret: context.secret, maxFramePayload: Int(context.limits.maxFramePayload))
        let payload = UnsafeMutableRawBufferPointer.allocate(
            byteCount: FrameHeader.paddedFrameSize(payload: Int(TCPConnection.handshakeLimits.maxFramePayload)),
            alignment: 8)
        defer { payload.deallocate() }
        do {
            try writeAll(handshake.firstFrame(), to: fd, until: deadline, timedOut: timedOut)
        } catch {
            // A listener at its cap may answer and close before the hello arrives: its reason waits here.
            if case .system = error,
                let header = try? readFrame(from: fd, into: payload, until: deadline, timedOut: timedOut, peer: address),
                header.kind == .close
            {
                let bytes = UnsafeRawBufferPointer(rebasing: payload[0..<Int(header.payloadLength)])
                let reason = String(decoding: bytes, as: UTF8.self)
                throw .handshakeFailed("the acceptor at \(address) refused the connection: \(reason)")
            }
            throw error
        }
        let header = try readFrame(from: fd, into: payload, until: deadline, timedOut: timedOut, peer: address)
        let received = UnsafeRawBufferPointer(rebasing: payload[0..<Int(header.payloadLength)])
        if header.kind == .close {
            let reason = String(decoding: received, as: UTF8.self)
            throw .handshakeFailed("the acceptor at \(address) refused the connection: \(reason)")
        }
        let (auth, outcome) = try handshake.receiveReply(kind: header.kind, payload: received)
        try writeAll(auth, to: fd, until: deadline, timedOut: timedOut)
        keep = true
        return (fd, outcome)
    }

    /// Writes one frame with its padding.
    private static func writeAll(
        _ frame: HandshakeFrame, to fd: Int32, until deadline: UInt64, timedOut: TransportError
    ) throws(TransportError) {
        let encoded = frame.encoded()
        let bytes = UnsafeMutableRawBufferPointer.allocate(
            byteCount: FrameHeader.paddedFrameSize(payload: frame.payload.count), alignment: 8)
        defer { bytes.deallocate() }
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        bytes.copyBytes(from: encoded)
        var offset = 0
        while offset < bytes.count {
            let written = try system { () throws(SystemError) in
                try TCPSocket.send(fd, bytes.baseAddress! + offset, bytes.count - offset, nil, 0)
            }
            if let written {
                offset += written
            } else if try !system({ () throws(SystemError) in try TCPSocket.wait(fd, for: CWEFT_TCP_POLLOUT, until: deadline) }) {
                throw timedOut
            }
        }
    }

    /// Reads exactly one handshake frame (header, payload, padding); the payload lands in `payload`.
    private static func readFrame(
        from fd: Int32, into payload: UnsafeMutableRawBufferPointer, until deadline: UInt64,
        timedOut: TransportError, peer: TCPAddress
    ) throws(TransportError) -> FrameHeader {
        var headerBytes = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let header = try withUnsafeMutableBytes(of: &headerBytes) { raw throws(TransportError) -> FrameHeader in
            try readExactly(raw, from: fd, until: deadline, timedOut: timedOut, peer: peer)
            switch FrameHeader.decode(from: raw.baseAddress!, limits: TCPConnection.handshakeLimits) {
            case .success(let header): return header
            case .failure(let error): throw .protocolViolation(error)
            }
        }
        let size = FrameHeader.paddedFrameSize(payload: Int(header.payloadLength)) - FrameLayout.headerSize
        try readExactly(
            UnsafeMutableRawBufferPointer(rebasing: payload[0..<size]), from: fd, until: deadline, timedOut: timedOut,
            peer: peer)
        return header
    }

    private static func readExactly(
        _ buffer: UnsafeMutableRawBufferPointer, from fd: Int32, until deadline: UInt64, timedOut: TransportError,
        peer: TCPAddress
    ) throws(TransportError) {
        var offset = 0
        while offset < buffer.count {
            let count = try system { () throws(SystemError) in
                try TCPSocket.receive(fd, into: buffer.baseAddress! + offset, count: buffer.count - offset)
            }
            guard let count else {
                guard try system({ () throws(SystemError) in try TCPSocket.wait(fd, for: CWEFT_TCP_POLLIN, until: deadline) })
                else { throw timedOut }
                continue
            }
            guard count > 0 else {
                throw .handshakeFailed(
                    "the acceptor at \(peer) closed the connection during the handshake"
                        + " (is it a Weft TCP listener with the same cluster-secret setting?)")
            }
            offset += count
        }
    }

    private static func system<T>(_ body: () throws(SystemError) -> T) throws(TransportError) -> T {
        do { return try body() } catch { throw .system(error) }
    }
}
