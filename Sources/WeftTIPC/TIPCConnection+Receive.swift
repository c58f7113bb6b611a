import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The receive side (IO thread only): one `recvmmsg` fills the slots, each message is
/// checked to be exactly one frame and handed up in place through `InOrderDelivery`, and
/// the next batch is read once every frame of this one is released.
extension TIPCConnection {
    /// Reads and delivers until the socket is drained, a handler holds a frame, or the
    /// connection ends. Returns how much work was done.
    func receive() -> Int {
        var work = 0
        while !terminated && !peerClosed {
            if delivery.isHolding {
                switch delivery.resume() {
                case .blocked: return work
                case .released: nextSlot += 1
                case .ready: break
                }
            }
            if nextSlot < received {
                work += 1
                guard handleMessage(at: nextSlot) else { return work }
                continue
            }
            guard socketReadable else { return work }
            nextSlot = 0
            received = 0
            let count: Int?
            do {
                count = try TIPCSyscalls.receiveBatch(
                    fd, bases: slotBases, capacity: slotStride, lengths: slotLengths, count: slotCount)
            } catch {
                lost(
                    error.errno == ECONNRESET || error.errno == ENOTCONN
                        ? "connection reset by peer (process gone or link lost)" : error.description)
                return work + 1
            }
            guard let count else {
                socketReadable = false
                return work
            }
            if count == 0 {
                reachedEndOfStream()
                return work + 1
            }
            received = count
            liveness.heard(at: ioThread.now)
            work += 1
            // A short batch drained the socket; a later message raises a new edge.
            if count < slotCount && !hangupSeen { socketReadable = false }
        }
        return work
    }

    /// Handles the message in `slot`; false when delivery must stop (held, closed, failed).
    @inline(__always)
    private func handleMessage(at slot: Int) -> Bool {
        let length = slotLengths[slot]
        let frame = UnsafeRawPointer(slotBases[slot]!)
        if length == 0 {
            // A zero-length read is TIPC's end of connection (a frame is never empty).
            nextSlot = received
            reachedEndOfStream()
            return false
        }
        let handshaking = acceptor != nil
        let frameLimits = handshaking ? Self.handshakeLimits : limits
        guard length != UInt32.max else {
            violation(.tooLong(length: slotStride, limit: Int(frameLimits.maxFramePayload)))
            return false
        }
        guard Int(length) >= FrameLayout.headerSize else {
            violation(.truncated(have: Int(length), need: FrameLayout.headerSize))
            return false
        }
        let header: FrameHeader
        switch FrameHeader.decode(from: frame, limits: frameLimits) {
        case .success(let decoded): header = decoded
        case .failure(let error):
            violation(error)
            return false
        }
        let need = FrameLayout.headerSize + Int(header.payloadLength)
        guard Int(length) == need else {
            // One message is exactly one frame: anything else is not a Weft peer.
            violation(.truncated(have: Int(length), need: need))
            return false
        }
        let payload = frame + FrameLayout.headerSize
        if handshaking {
            nextSlot += 1
            return handshakeStep(header, payload: payload)
        }
        guard let handler else {
            nextSlot += 1
            return true
        }
        delivered &+= 1
        switch delivery.deliver(header, payload: payload, end: delivered, to: handler, on: self) {
        case .next:
            nextSlot += 1
            return !terminated
        case .held:
            return false
        case .nextThenPause:
            nextSlot += 1
            return false
        case .close:
            nextSlot += 1
            peerClosedInOrder(
                reason: UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength)))
            return false
        case .violation(let error):
            violation(error)
            return false
        }
    }

    private func reachedEndOfStream() {
        endOfStream = true
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
            logger.debug("TIPC peer \(peer.address) closed: \(String(decoding: reason, as: UTF8.self))")
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
                logger.warning("refusing TIPC connection from \(peer.address): \(error)")
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
        logger.debug("accepted TIPC connection from \(peer)")
    }
}
