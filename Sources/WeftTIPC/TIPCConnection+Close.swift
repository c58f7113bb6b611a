import Synchronization
import WeftCore

/// The end of a connection: an orderly close (close frames both ways, then `closed(nil)`),
/// a violation (close frame with the reason, then `closed(protocolViolation)`), or a loss
/// (the peer's socket or node went away: TIPC aborts the connection at once when the peer
/// process dies, and when link supervision declares the peer's node lost).
/// Every path ends in `teardown`, which tells the handler exactly once. IO thread, except `close()`.
///
/// TIPC's `shutdown` ends both directions at once, so there is no half-close: a side is done
/// when its own close frame is sent and the peer's close frame (or the end) has arrived.
extension TIPCConnection {
    public func close() {
        guard
            phase.compareExchange(
                expected: Phase.open.rawValue, desired: Phase.closing.rawValue, ordering: .acquiringAndReleasing
            ).exchanged
        else { return }
        closeMessage.withLock { $0 = "closed by this side" }
        if ioThread.isCurrent {
            beginClose(reason: "")
        } else {
            ioThread.execute { [self] in beginClose(reason: "") }
        }
    }

    /// Queues the close frame behind every committed frame and starts the close timer (IO thread).
    func beginClose(reason: String) {
        guard !terminated, !closeRequested.load(ordering: .relaxed) else { return }
        queueCloseFrame(reason: reason)
        timerDeadline = TIPCClock.now + closeTimeout
        _ = checkProgress()
    }

    private func queueCloseFrame(reason: String) {
        var reasonBytes = Array(reason.utf8.prefix(Self.maxCloseReason))
        while !reasonBytes.isEmpty, String(validating: reasonBytes, as: UTF8.self) == nil { reasonBytes.removeLast() }
        FrameHeader(kind: .close, payloadLength: UInt32(reasonBytes.count)).encode(to: closeFrame)
        reasonBytes.withUnsafeBytes { raw in
            if let source = raw.baseAddress {
                (closeFrame + FrameLayout.headerSize).copyMemory(from: source, byteCount: raw.count)
            }
        }
        closeFrameLength = FrameLayout.headerSize + reasonBytes.count
        closeRequested.store(true, ordering: .sequentiallyConsistent)
        requestWrite()
    }

    /// Advances a close or a handshake and enforces their time limit (IO thread).
    func checkProgress() -> Int {
        guard !terminated else { return 0 }
        if closeRequested.load(ordering: .relaxed) && closeFrameWritten.load(ordering: .acquiring)
            && (peerClosed || endOfStream)
        {
            teardown(error: nil, reason: "closed in order")
            return 1
        }
        let now = TIPCClock.now
        guard now >= timerDeadline else { return 0 }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            logger.warning(
                "closing TIPC connection from \(peer.address): no handshake within \(Duration.nanoseconds(Int64(closeTimeout)))")
            teardown(error: .timedOut("handshake with \(peer.address)"), reason: "handshake timed out")
        } else if peerClosed {
            teardown(error: nil, reason: "closed in order")
        } else {
            logger.notice("TIPC connection to \(peer.address): the peer did not confirm the close in time")
            teardown(error: .timedOut("the peer at \(peer.address) did not confirm the close"), reason: "close timed out")
        }
        return 1
    }

    /// Ends the connection at once: stops watching, lets the writer close the socket,
    /// tells the handler (exactly once). IO thread only.
    func teardown(error: TransportError?, reason: String) {
        guard !terminated else { return }
        terminated = true
        timerDeadline = 0
        phase.store(Phase.closed.rawValue, ordering: .releasing)
        closeMessage.withLock { if $0.isEmpty || error != nil { $0 = reason } }
        if let registration {
            ioThread.unwatch(fd, pollWhileSpinning: true)
            ioThread.deregister(registration)
            self.registration = nil
        }
        terminating.store(true, ordering: .sequentiallyConsistent)
        requestWrite()
        let handler = self.handler
        self.handler = nil
        handlerFactory = nil
        acceptor = nil
        quotaPlace = nil
        handler?.closed(self, error: error)
    }

    /// Closes for a broken protocol: log, tell the peer why (a close frame), end.
    func violation(_ error: FrameError) {
        guard !terminated else { return }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            logger.warning("closing TIPC connection from \(peer.address) during the handshake: \(error)")
        } else {
            logger.warning("closing TIPC connection to \(peer.address): \(error)")
        }
        sendCloseFrameNow(reason: error.description)
        teardown(error: .protocolViolation(error), reason: "protocol violation: \(error)")
    }

    func sendCloseFrameNow(reason: String) {
        if !terminated && !closeRequested.load(ordering: .relaxed) { queueCloseFrame(reason: reason) }
    }

    /// The peer went away (end without a close frame, reset, send failure).
    func lost(_ why: String) {
        guard !terminated else { return }
        if peerClosed || (closeRequested.load(ordering: .relaxed) && closeFrameWritten.load(ordering: .relaxed)) {
            teardown(error: nil, reason: "closed in order")
            return
        }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            logger.notice("TIPC connection from \(peer.address) ended during the handshake: \(why)")
            teardown(error: .handshakeFailed(why), reason: why)
            return
        }
        logger.notice("TIPC connection to \(peer.address) lost: \(why)")
        teardown(error: .peerLost(why), reason: why)
    }

    func closedError() -> TransportError {
        let why = closeMessage.withLock { $0 }
        return .closed(reason: why.isEmpty ? "the connection is closing" : why)
    }
}
