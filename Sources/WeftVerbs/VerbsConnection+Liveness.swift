import WeftCore

/// Heartbeats and the idle time-out (IO thread, open connections only), as TCP and TIPC
/// have them. A reliable-connected queue pair reports a lost peer only when a work request
/// fails, after its retries; a side that only waits (a ping-pong client whose server's link
/// went down) would wait for ever. Only what the peer sends counts as hearing it (a send
/// completes once the peer's adapter acknowledged it, even when the peer's process is
/// stopped); a side that sent nothing for `heartbeat-interval-ms` sends a `heartbeat`
/// control frame; silence past `idle-timeout-ms` closes with `peerLost`, naming the port
/// when its link is the cause.
extension VerbsConnection {
    /// Open: tick for heartbeats and the idle time-out.
    func startLiveness() {
        guard let registration, !liveness.isOff else { return }
        // The peer's frames (heartbeats included) queue behind its work requests: while its
        // queue pair retransmits (a lossy link, its RDMA READs of our frames), nothing can
        // arrive, for up to its whole retransmission window; the queue pair fails by itself
        // after that. Silence shorter than the window plus a heartbeat proves nothing.
        if let window = VerbsSyscalls.retransmissionWindow(qp) {
            liveness.raiseIdleTimeout(toAtLeast: window + liveness.heartbeatInterval)
        }
        ioThread.startTicking(registration, every: liveness.tickPeriod)
        liveness.heard(at: ioThread.now)
        liveness.sent(at: ioThread.now)
        sendsAtLastTick = completedSends.load(ordering: .relaxed)
    }

    public func tick(now: UInt64) {
        guard !terminated, phase.load(ordering: .relaxed) == Phase.open.rawValue else { return }
        // While a handler holds a frame this side takes nothing in: silence proves nothing then.
        if delivery.pointee.isHolding { liveness.heard(at: now) }
        let sends = completedSends.load(ordering: .relaxed)
        if sends != sendsAtLastTick {
            sendsAtLastTick = sends
            liveness.sent(at: now)
        }
        switch liveness.check(now: now) {
        case .none:
            break
        case .sendHeartbeat:
            _ = postControl(kind: .heartbeat, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        case .peerLost(let silence):
            lost(portDownSentence() ?? liveness.lostReason(silentFor: silence))
        }
    }
}
