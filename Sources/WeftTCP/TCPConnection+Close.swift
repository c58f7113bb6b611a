import Synchronization
import WeftCore

/// The end of a connection: an orderly close (close frames both ways, then `closed(nil)`),
/// a violation (close frame with the reason, then `closed(protocolViolation)`), or a loss.
/// Every path ends in `teardown`, which tells the handler exactly once. IO thread, except `close()`.
extension TCPConnection {
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
        timerDeadline = TCPClock.now + closeTimeout
        _ = checkProgress()
    }

    /// Asks the writer for a close frame (with `reason`) after everything committed, and writes now if it can.
    private func queueCloseFrame(reason: String) {
        var reasonBytes = Array(reason.utf8.prefix(Self.maxCloseReason))
        // The frame must stay whole: cut a multi-byte character rather than leave half of it.
        while !reasonBytes.isEmpty, String(validating: reasonBytes, as: UTF8.self) == nil { reasonBytes.removeLast() }
        FrameHeader(kind: .close, payloadLength: UInt32(reasonBytes.count)).encode(to: closeFrame)
        reasonBytes.withUnsafeBytes { raw in
            if let source = raw.baseAddress {
                (closeFrame + FrameLayout.headerSize).copyMemory(from: source, byteCount: raw.count)
            }
        }
        closeFrameLength = FrameHeader.paddedFrameSize(payload: reasonBytes.count)
        let used = FrameLayout.headerSize + reasonBytes.count
        (closeFrame + used).initializeMemory(as: UInt8.self, repeating: 0, count: closeFrameLength - used)
        closeRequested.store(true, ordering: .sequentiallyConsistent)
        requestWrite()
    }

    /// Advances a close or a handshake and enforces their time limit (IO thread).
    func checkProgress() -> Int {
        guard !terminated else { return 0 }
        if closeRequested.load(ordering: .relaxed) {
            if !shutDownWriting && closeFrameWritten.load(ordering: .acquiring) {
                TCPSocket.shutdownWrite(fd)
                shutDownWriting = true
            }
            if shutDownWriting && (peerClosed || endOfStream) {
                teardown(error: nil, reason: "closed in order")
                return 1
            }
        }
        let now = TCPClock.now
        if closeRequested.load(ordering: .relaxed) {
            // The close waits for the peer to drain; the timer runs only while nothing moves.
            let written = sent.load(ordering: .relaxed)
            if written != sentAtLastCheck {
                sentAtLastCheck = written
                timerDeadline = now + closeTimeout
                return 0
            }
        }
        if now >= timerDeadline {
            if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
                logger.warning(
                    "closing TCP connection from \(peer.address): no handshake within \(Duration.nanoseconds(Int64(closeTimeout)))"
                )
                teardown(error: .timedOut("handshake with \(peer.address)"), reason: "handshake timed out")
            } else if peerClosed {
                teardown(error: nil, reason: "closed in order")
            } else {
                logger.notice("TCP connection to \(peer.address): the peer did not confirm the close in time")
                teardown(
                    error: .timedOut("the peer at \(peer.address) did not confirm the close"),
                    reason: "close timed out")
            }
            return 1
        }
        return 0
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
            ioThread.unwatch(fd, pollWhileSpinning: !readsWhileSpinning)
            if readsWhileSpinning { ioThread.releaseSpinReader() }
            ioThread.deregister(registration)
            self.registration = nil
        }
        // The writer role closes the descriptor, so no sender can be inside sendmsg on it.
        terminating.store(true, ordering: .sequentiallyConsistent)
        requestWrite()
        // Half a message can never complete now: its memory goes back to the process's budget.
        reassembly.assembler.abandonPartialMessage()
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
            logger.warning("closing TCP connection from \(peer.address) during the handshake: \(error)")
        } else {
            logger.warning("closing TCP connection to \(peer.address): \(error)")
        }
        sendCloseFrameNow(reason: error.description)
        teardown(error: .protocolViolation(error), reason: "protocol violation: \(error)")
    }

    /// Best effort before a forced close: the close frame goes out behind what is committed,
    /// if the socket takes it now.
    func sendCloseFrameNow(reason: String) {
        if !terminated && !closeRequested.load(ordering: .relaxed) { queueCloseFrame(reason: reason) }
    }

    /// The peer went away (end of stream without a close frame, reset, write failure).
    func lost(_ why: String) {
        guard !terminated else { return }
        if peerClosed || (closeRequested.load(ordering: .relaxed) && shutDownWriting) {
            teardown(error: nil, reason: "closed in order")
            return
        }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            logger.notice("TCP connection from \(peer.address) ended during the handshake: \(why)")
            teardown(error: .handshakeFailed(why), reason: why)
            return
        }
        logger.notice("TCP connection to \(peer.address) lost: \(why)")
        teardown(error: .peerLost(why), reason: why)
    }

    func closedError() -> TransportError {
        let why = closeMessage.withLock { $0 }
        return .closed(reason: why.isEmpty ? "the connection is closing" : why)
    }
}
