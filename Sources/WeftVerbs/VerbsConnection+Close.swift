internal import CWeftVerbs
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The end of a connection: an orderly close (close frames both ways, each side waits for
/// its own to complete, then disconnects), a violation (a close frame with the reason, then
/// `closed(protocolViolation)`), or a loss (the peer disconnected, the queue pair failed).
/// Every path ends in `teardown`, which tells the handler exactly once. IO thread, except `close()`.
extension VerbsConnection {
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

    /// Posts the close frame behind every committed frame and starts the close timer.
    func beginClose(reason: String) {
        guard !terminated, !closeQueued else { return }
        var bytes = Array(reason.utf8.prefix(Self.maxCloseReason))
        while !bytes.isEmpty, String(validating: bytes, as: UTF8.self) == nil { bytes.removeLast() }
        let position = controlPosted
        let posted = bytes.withUnsafeBytes { postControl(kind: .close, payload: $0) }
        timerDeadline = VerbsClock.now + closeTimeout
        guard posted else { return }
        closeQueued = true
        closePosition = position
    }

    /// The peer sent `close`: everything before it was delivered; answer with our own close.
    func peerClosedInOrder(reason: String) {
        peerClosed = true
        if !reason.isEmpty { logger.debug("verbs peer \(peer.address) closed: \(reason)") }
        if phase.compareExchange(
            expected: Phase.open.rawValue, desired: Phase.closing.rawValue, ordering: .acquiringAndReleasing
        ).exchanged {
            closeMessage.withLock { $0 = "closed by the peer" }
        }
        beginClose(reason: "")
        finishCloseIfDone()
    }

    /// Both close frames crossed and ours completed: disconnect.
    func finishCloseIfDone() {
        if peerClosed && closeCompleted { teardown(error: nil, reason: "closed in order") }
    }

    /// Enforces the handshake and close time limits; retries a close that found no free slot.
    func checkTimer() -> Int {
        if phase.load(ordering: .relaxed) >= Phase.closing.rawValue && !closeQueued { beginClose(reason: "") }
        guard VerbsClock.now >= timerDeadline else { return 0 }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            logger.warning("closing verbs connection from \(peer.address): no handshake within the connect time-out")
            teardown(error: .timedOut("handshake with \(peer.address)"), reason: "handshake timed out")
        } else if peerClosed {
            teardown(error: nil, reason: "closed in order")
        } else {
            logger.notice("verbs connection to \(peer.address): the peer did not confirm the close in time")
            teardown(error: .timedOut("the peer at \(peer.address) did not confirm the close"), reason: "close timed out")
        }
        return 1
    }

    /// rdma_cm events on the connection's own channel: established, disconnected, device removal.
    /// corresponding C functions: `rdma_get_cm_event`, `rdma_ack_cm_event`.
    func handleConnectionEvents() {
        while !terminated {
            let event: UnsafeMutablePointer<rdma_cm_event>?
            do {
                event = try VerbsSyscalls.nextEvent(queuePair.eventChannel)
            } catch {
                lost(error.description)
                return
            }
            guard let event else { return }
            let type = event.pointee.event
            VerbsSyscalls.acknowledge(event)
            switch type {
            case RDMA_CM_EVENT_DISCONNECTED, RDMA_CM_EVENT_TIMEWAIT_EXIT:
                disconnected = true
                // Frames that arrived before the disconnect are still delivered.
                _ = poll()
                guard !terminated else { return }
                if peerClosed {
                    teardown(error: nil, reason: "closed in order")
                } else {
                    lost(portDownSentence() ?? "the peer at \(peer.address) disconnected without a close frame")
                }
            case RDMA_CM_EVENT_DEVICE_REMOVAL:
                lost("the RDMA device \(device.name) was removed")
            default:
                continue
            }
        }
    }

    /// A work request failed: after a close this is the flush of the disconnect; otherwise
    /// the queue pair is in error, and the sentence says why.
    func completionFailed(_ completion: ibv_wc) {
        guard !terminated else { return }
        if completion.status == IBV_WC_WR_FLUSH_ERR && peerClosed {
            teardown(error: nil, reason: "closed in order")
            return
        }
        let status = VerbsSyscalls.describe(completion.status)
        lost(
            VerbsErrors.completionFailure(
                status: status, portState: device.portState(), device: device.name, peer: peer.address))
    }

    /// The port's state when it is not ACTIVE, as the cause of a failure.
    func portDownSentence() -> String? {
        guard let state = device.portState(), state != "ACTIVE" else { return nil }
        return VerbsErrors.completionFailure(status: "link down", portState: state, device: device.name, peer: peer.address)
    }

    /// Ends the connection at once: stops watching, disconnects, tells the handler (exactly
    /// once). The verbs objects go with the connection itself (`deinit`), so a sender still
    /// inside `commit` never posts to a destroyed queue pair. IO thread only.
    func teardown(error: TransportError?, reason: String) {
        guard !terminated else { return }
        terminated = true
        timerDeadline = 0
        phase.store(Phase.closed.rawValue, ordering: .releasing)
        closeMessage.withLock { if $0.isEmpty || error != nil { $0 = reason } }
        if let registration {
            ioThread.unwatch(queuePair.completionFD, pollWhileSpinning: false)
            ioThread.unwatch(queuePair.eventFD, pollWhileSpinning: false)
            ioThread.deregister(registration)
            self.registration = nil
        }
        if !disconnected { VerbsSyscalls.disconnect(queuePair.id) }
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
        logger.warning("closing verbs connection to \(peer.address): \(error)")
        sendCloseNow(reason: error.description)
        teardown(error: .protocolViolation(error), reason: "protocol violation: \(error)")
    }

    /// Best effort before a forced close: the close frame with the reason, if a slot is free.
    func sendCloseNow(reason: String) {
        if !terminated && !closeQueued { beginClose(reason: reason) }
    }

    /// The peer went away or the queue pair failed.
    func lost(_ why: String) {
        guard !terminated else { return }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            logger.notice("verbs connection from \(peer.address) ended during the handshake: \(why)")
            teardown(error: .handshakeFailed(why), reason: why)
            return
        }
        logger.notice("verbs connection to \(peer.address) lost: \(why)")
        teardown(error: .peerLost(why), reason: why)
    }

    func closedError() -> TransportError {
        let why = closeMessage.withLock { $0 }
        return .closed(reason: why.isEmpty ? "the connection is closing" : why)
    }
}
