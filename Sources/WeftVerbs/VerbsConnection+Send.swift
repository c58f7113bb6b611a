import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The send side: reservations in the registered send slots (or, above the eager limit, in
/// the rendezvous send region), one send work request per commit, and the IO thread's
/// control frames (handshake, credit, close, rendezvousDone) in slots of their own.
extension VerbsConnection {
    // MARK: Reserve and commit (any sender thread)

    public func reserve(capacity: Int) throws(TransportError) -> SendReservation {
        sendLock?.lock()
        guard phase.load(ordering: .relaxed) == Phase.open.rawValue else {
            sendLock?.unlock()
            throw closedError()
        }
        guard capacity >= 0, capacity <= maxReservation else {
            sendLock?.unlock()
            throw .messageTooLarge(size: capacity, limit: maxReservation)
        }
        // A free slot (sends complete in order) and a posted receive at the peer (a credit);
        // a large frame also needs the rendezvous send region back from the peer's last READ.
        guard tail &- completedSends.load(ordering: .acquiring) < slotCount,
            credits.load(ordering: .acquiring) > 0
        else {
            sendLock?.unlock()
            throw .wouldBlock
        }
        if capacity > eagerLimit {
            guard
                rendezvousIssued.load(ordering: .relaxed) &- rendezvousFreed.load(ordering: .acquiring)
                    < UInt64(VerbsConfiguration.maxRendezvousInFlight),
                let start = sendRegion.place(
                    FrameLayout.headerSize + capacity, head: sendRegionHead.load(ordering: .acquiring))
            else {
                sendLock?.unlock()
                throw .wouldBlock
            }
            reservedRegionStart = start
            return SendReservation(
                frame: rendezvousSendBase + sendRegion.offset(start), capacity: capacity,
                token: tail | Self.rendezvousBit, hooks: reservationHooks)
        }
        let frame = sendBase + Int(tail % slotCount) * slotBytes
        return SendReservation(frame: frame, capacity: capacity, token: tail, hooks: reservationHooks)
    }

    /// Marks a reservation token as one in the rendezvous send region (slot positions never reach it).
    static let rendezvousBit: UInt64 = 1 << 63

    /// The reservation's way back here, with no reference counting (see `ReservationHooks`).
    var reservationHooks: ReservationHooks {
        ReservationHooks(
            context: Unmanaged.passUnretained(self).toOpaque(),
            commit: { context, frame, token, length in
                Unmanaged<VerbsConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.commitReservation(frame: frame, token: token, payloadLength: length)
                }
            },
            abandon: { context, token in
                Unmanaged<VerbsConnection>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.abandonReservation(token: token) }
            })
    }

    /// Nothing was sent: a rendezvous reservation gives its space back; the next sender goes in.
    func abandonReservation(token: UInt64) {
        if token & Self.rendezvousBit != 0 { sendRegion.unplaceLast() }
        sendLock?.unlock()
    }

    /// Posts the frame as one send: inline when it fits, signalled every `signalInterval`
    /// sends and whenever it takes the last free slot (so a full ring always has a
    /// completion coming that frees it). corresponding C function: `ibv_post_send`.
    @inline(__always)
    func commitReservation(frame: UnsafeMutableRawPointer, token: UInt64, payloadLength: UInt32) {
        guard token & Self.rendezvousBit == 0 else {
            commitRendezvous(slotToken: token & ~Self.rendezvousBit, payloadLength: payloadLength)
            return
        }
        postSlot(frame, token: token, length: FrameLayout.headerSize + Int(payloadLength))
    }

    /// The frame is complete in the rendezvous send region: tell the peer where to read it, in
    /// a `rendezvousReady` frame in the next slot (one credit, as the frame itself would take).
    func commitRendezvous(slotToken: UInt64, payloadLength: UInt32) {
        let token = rendezvousIssued.load(ordering: .relaxed) &+ 1
        let frameLength = UInt32(FrameLayout.headerSize) + payloadLength
        // Written before the token is published: the IO thread reads it once the peer is done.
        rendezvousEnds[Int(token % UInt64(VerbsConfiguration.maxRendezvousInFlight))] =
            sendRegion.trim(start: reservedRegionStart, to: Int(frameLength))
        rendezvousIssued.store(token, ordering: .releasing)
        let inFlight = token &- rendezvousFreed.load(ordering: .relaxed)
        if inFlight > counters.rendezvousPeakInFlight.load(ordering: .relaxed) {
            counters.rendezvousPeakInFlight.store(inFlight, ordering: .relaxed)
        }
        let slot = sendBase + Int(slotToken % slotCount) * slotBytes
        FrameHeader(kind: .rendezvousReady, payloadLength: UInt32(RendezvousReady.size)).encode(to: slot)
        RendezvousReady(
            address: UInt64(UInt(bitPattern: rendezvousSendBase + sendRegion.offset(reservedRegionStart))),
            remoteKey: rkey, frameLength: frameLength, token: token
        ).encode(to: slot + FrameLayout.headerSize)
        VerbsCounters.bump(counters.rendezvousSends)
        postSlot(slot, token: slotToken, length: FrameLayout.headerSize + RendezvousReady.size)
    }

    /// Posts the frame in slot `token` as one send and lets the next sender in.
    @inline(__always)
    func postSlot(_ frame: UnsafeMutableRawPointer, token: UInt64, length: Int) {
        tail = token &+ 1
        credits.subtract(1, ordering: .relaxed)
        let signaled =
            tail &- lastSignaled >= signalInterval || tail &- completedSends.load(ordering: .relaxed) >= slotCount
        if signaled { lastSignaled = tail }
        let code = VerbsSyscalls.postSend(
            qp, id: Self.workID(.send, token), frame, length: length, lkey: lkey, signaled: signaled,
            inline: length <= inlineLimit)
        VerbsCounters.bump(counters.sends)
        sendLock?.unlock()
        if code != 0 { recordSendFailure(code) }
    }

    /// A post failed (any thread): the IO thread ends the connection.
    func recordSendFailure(_ code: Int32) {
        guard sendFailure.compareExchange(expected: 0, desired: code, ordering: .relaxed).exchanged else { return }
        ioThread.execute { [self] in
            lost(portDownSentence() ?? SystemError("ibv_post_send", errno: code).description)
        }
    }

    // MARK: Control frames (IO thread, or the connector's thread before the IO thread takes over)

    /// Posts a control frame (signalled); false when all control slots are in flight.
    @discardableResult
    func postControl(kind: MessageKind, payload: UnsafeRawBufferPointer) -> Bool {
        guard controlPosted &- controlCompleted < UInt64(VerbsConfiguration.controlSlots) else { return false }
        let slot =
            controlBase + Int(controlPosted % UInt64(VerbsConfiguration.controlSlots)) * VerbsConfiguration.controlSlotBytes
        let count = min(payload.count, VerbsConfiguration.controlSlotBytes - FrameLayout.headerSize)
        FrameHeader(kind: kind, payloadLength: UInt32(count)).encode(to: slot)
        if count > 0 { (slot + FrameLayout.headerSize).copyMemory(from: payload.baseAddress!, byteCount: count) }
        let length = FrameLayout.headerSize + count
        let code = VerbsSyscalls.postSend(
            qp, id: Self.workID(.control, controlPosted), slot, length: length, lkey: lkey, signaled: true,
            inline: length <= inlineLimit)
        guard code == 0 else {
            recordSendFailure(code)
            return false
        }
        controlPosted &+= 1
        VerbsCounters.bump(counters.controlSends)
        return true
    }

    func postControl(_ frame: HandshakeFrame) -> Bool {
        frame.payload.withUnsafeBytes { postControl(kind: frame.kind, payload: $0) }
    }

    /// Grants the peer the receive buffers reposted since the last grant.
    func returnCredits() {
        var count = UInt32(creditsToReturn).littleEndian
        let posted = withUnsafeBytes(of: &count) { postControl(kind: .credit, payload: $0) }
        if posted { creditsToReturn = 0 }
    }

    /// Tells the peer its rendezvous region is free again (retried from `poll` while no
    /// control slot is free).
    func sendDone() {
        var token = doneToSend.littleEndian
        let posted = withUnsafeBytes(of: &token) { postControl(kind: .rendezvousDone, payload: $0) }
        if posted { doneToSend = 0 }
    }

    /// A send, control or RDMA READ work request completed (IO thread).
    @inline(__always)
    func sendCompleted(kind: WorkKind, value: UInt64) {
        switch kind {
        case .send:
            completedSends.store(value &+ 1, ordering: .releasing)
        case .control:
            controlCompleted = value &+ 1
            if closeQueued && value == closePosition {
                closeCompleted = true
                finishCloseIfDone()
            }
        case .read:
            readCompleted()
        case .receive:
            break
        }
    }
}
