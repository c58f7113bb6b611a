import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The receive side (IO thread only): read as much as the buffer takes, parse frames in
/// place, deliver one at a time, and reuse the buffer once the delivered frame is released.
extension TCPConnection {
    /// Reads and delivers until the socket is drained, a handler holds a frame, or the
    /// connection ends. Returns how much work was done.
    func receive() -> Int {
        var work = 0
        while !terminated && !peerClosed {
            if outstanding {
                // The handler still holds the last frame: this connection waits (only this one).
                guard releaseCursor.position == delivered else { return work }
                outstanding = false
                reassembly.assembler.releaseIdleMemory()
            }
            let need = deliverBuffered(&work)
            if need == 0 || !socketReadable { return work }
            receiveBuffer.makeRoom(for: need)
            let space = receiveBuffer.freeBytes
            let count: Int?
            do {
                count = try TCPSocket.receive(fd, into: receiveBuffer.freeSpace, count: space)
            } catch {
                lost(error.errno == ECONNRESET ? "connection reset by peer" : error.description)
                return work + 1
            }
            guard let count else {
                socketReadable = false
                receiveBuffer.shrinkIfGrown()
                return work
            }
            if count == 0 {
                reachedEndOfStream()
                return work + 1
            }
            receiveBuffer.didReceive(count)
            liveness.heard(at: ioThread.now)
            work += 1
            // A short read drained the socket; data arriving later raises a new edge.
            // After a hang-up, read on until the end of stream itself.
            if count < space && !hangupSeen { socketReadable = false }
        }
        return work
    }

    /// Handles the complete frames in the buffer. Returns the bytes the next frame needs
    /// (at least a header), or 0 when delivery stopped: a held frame, a close, an error.
    private func deliverBuffered(_ work: inout Int) -> Int {
        let handshaking = acceptor != nil
        while true {
            let header: FrameHeader
            let payload: UnsafeMutableRawPointer
            switch receiveBuffer.nextFrame(limits: handshaking ? Self.handshakeLimits : limits) {
            case .frame(let decoded, let start):
                header = decoded
                payload = start
            case .needs(let bytes):
                return bytes
            case .malformed(let error):
                violation(error)
                return 0
            }
            work += 1
            if handshaking { return handshakeStep(header, payload: payload) ? deliverBuffered(&work) : 0 }
            guard handle(header, payload: payload) else { return 0 }
        }
    }

    /// One established frame; false when delivery must stop.
    @inline(__always)
    private func handle(_ header: FrameHeader, payload: UnsafeRawPointer) -> Bool {
        switch header.kind {
        case .data, .request, .response:
            guard header.flags.contains(.fragment) else { return deliver(header, payload: payload) }
            let whole: FrameHeader?
            do {
                whole = try reassembly.assembler.append(header, payload: payload)
            } catch {
                violation(error)
                return false
            }
            guard let whole else { return true }
            guard deliver(whole, payload: reassembly.assembler.messageBytes) else { return false }
            reassembly.assembler.releaseIdleMemory()
            return true
        case .heartbeat:
            // Proof of life only; any byte received says as much.
            return true
        case .credit:
            // Meant for message transports; TCP's own window already pushes back.
            return true
        case .close:
            peerClosedInOrder(reason: UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength)))
            return false
        case .hello, .helloReply, .auth:
            violation(.unexpectedKind(header.kind, state: "the connection is established"))
            return false
        case .rendezvousReady, .rendezvousDone:
            violation(.unexpectedKind(header.kind, state: "using a transport without RDMA rendezvous"))
            return false
        }
    }

    /// Hands one frame to the handler, in place. True when it was released before returning.
    @inline(__always)
    private func deliver(_ header: FrameHeader, payload: UnsafeRawPointer) -> Bool {
        guard let handler else { return true }
        delivered &+= 1
        outstanding = true
        handler.received(
            ReceivedFrame(
                header: header, payload: payload, releaseCursor: UnsafePointer(releaseCursor.pointer),
                releasePosition: delivered),
            on: self)
        if terminated { return false }
        guard releaseCursor.position == delivered else { return false }
        outstanding = false
        return true
    }

    private func reachedEndOfStream() {
        endOfStream = true
        if let truncated = receiveBuffer.truncation(limits: acceptor != nil ? Self.handshakeLimits : limits) {
            violation(truncated)
            return
        }
        if closeRequested.load(ordering: .relaxed) {
            _ = checkProgress()
            if terminated { return }
        }
        lost("the peer closed the connection without a close frame")
    }

    /// The peer sent `close`: everything before it was delivered; answer with our own close.
    private func peerClosedInOrder(reason: UnsafeRawBufferPointer) {
        peerClosed = true
        if reason.count > 0 {
            logger.debug("TCP peer \(peer.address) closed: \(String(decoding: reason, as: UTF8.self))")
        }
        if phase.compareExchange(
            expected: Phase.open.rawValue, desired: Phase.closing.rawValue, ordering: .acquiringAndReleasing
        ).exchanged {
            closeMessage.withLock { $0 = "closed by the peer" }
        }
        beginClose(reason: "")
        _ = checkProgress()
    }

    // MARK: Acceptor handshake (a state machine on the IO thread)

    /// hello → (send helloReply) → auth → established. False when it failed.
    private func handshakeStep(_ header: FrameHeader, payload: UnsafeRawPointer) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength))
        do throws(TransportError) {
            if !helloReceived {
                try admitLocalUser()
                let reply = try acceptor!.receiveHello(kind: header.kind, payload: bytes)
                helloReceived = true
                guard enqueue(reply) else { throw .handshakeFailed("no room for the helloReply") }
                requestWrite()
                return true
            }
            let outcome = try acceptor!.receiveAuth(kind: header.kind, payload: bytes)
            establish(outcome)
            return !terminated
        } catch {
            if case .protocolViolation(let frameError) = error {
                violation(frameError)
            } else {
                logger.warning("refusing TCP connection from \(peer.address): \(error)")
                if case .handshakeFailed(let why) = error {
                    sendCloseFrameNow(reason: why)
                } else {
                    sendCloseFrameNow(reason: error.description)
                }
                teardown(error: error, reason: error.description)
            }
            return false
        }
    }

    private func establish(_ outcome: HandshakeOutcome) {
        peer = PeerInfo(node: outcome.peerNode, address: peer.address, maxFramePayload: outcome.peerMaxFramePayload)
        maxReservation = reservationLimit(peerMaxFramePayload: outcome.peerMaxFramePayload)
        acceptor = nil
        timerDeadline = 0
        phase.store(Phase.open.rawValue, ordering: .releasing)
        startLiveness()
        let factory = handlerFactory
        handlerFactory = nil
        handler = factory?(peer)
        logger.debug("accepted TCP connection from \(peer)")
    }
}
