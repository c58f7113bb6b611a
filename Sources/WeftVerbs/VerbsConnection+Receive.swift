internal import CWeftVerbs
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The receive side (IO thread): batched CQ polling, receive completions queued in order
/// and delivered one at a time in place, buffers reposted when released, credits returned;
/// a `rendezvousReady` becomes one RDMA READ into the read region, delivered in its turn.
extension VerbsConnection {
    /// Polls the CQ in batches. Send completions are handled at once; receive completions
    /// queue in `receiveRing` in arrival order. corresponding C function: `ibv_poll_cq`.
    @inline(__always)
    func pollCompletions() -> Int {
        var work = 0
        while true {
            let count = Int(VerbsSyscalls.poll(queuePair.cq, into: completions, capacity: Self.pollBatch))
            guard count > 0 else {
                if count < 0 { lost("ibv_poll_cq failed on the completion queue") }
                return work
            }
            work += count
            for index in 0..<count {
                let completion = completions[index]
                guard completion.status == IBV_WC_SUCCESS else {
                    completionFailed(completion)
                    return work
                }
                let kind = WorkKind(rawValue: completion.wr_id >> 56) ?? .send
                let value = completion.wr_id & 0x00FF_FFFF_FFFF_FFFF
                if kind == .receive {
                    receiveRing[receiveTail & receiveRingMask] = (UInt32(value), completion.byte_len)
                    receiveTail &+= 1
                    liveness.heard(at: ioThread.now)
                } else {
                    sendCompleted(kind: kind, value: value)
                }
            }
            if count < Int(Self.pollBatch) || terminated { return work }
        }
    }

    /// Handles queued receives in order until the ring is empty or a frame is held.
    @inline(__always)
    func drainReceives() -> Int {
        switch delivery.pointee.resume() {
        case .blocked: return 0
        case .released:
            if heldBuffer >= 0 {
                let index = heldBuffer
                heldBuffer = -1
                repost(index, data: true)
            } else if reads.frontHeld {
                reads.freeFront()
            }
        case .ready: break
        }
        var work = 0
        while !terminated {
            if reads.frontIsRead {
                work += 1
                guard deliverRead() else { return work }
                continue
            }
            guard receiveHead != receiveTail else { return work }
            let (index, length) = receiveRing[receiveHead & receiveRingMask]
            let step = handleReceive(buffer: Int(index), length: Int(length), behindRead: !reads.isEmpty)
            if step == .wait { return work }
            receiveHead &+= 1
            work += 1
            if step == .stop { return work }
        }
        return work
    }

    /// What handling one received frame leaves to do: go on, stop for now, or stop and leave
    /// the frame at the head of the queue (it must wait for a rendezvous ahead of it).
    enum ReceiveStep {
        case next
        case stop
        case wait
    }

    /// One received frame in buffer `index`. Behind a rendezvous still being read, frames the
    /// application sees (and `close`) wait so that delivery stays in order; the rest (credit,
    /// heartbeat, further rendezvous) are handled at once, so READs overlap.
    @inline(__always)
    private func handleReceive(buffer index: Int, length: Int, behindRead: Bool) -> ReceiveStep {
        let frame = receiveBase + index * bufferBytes
        let handshaking = phase.load(ordering: .relaxed) == Phase.handshaking.rawValue
        guard length >= FrameLayout.headerSize else {
            violation(.truncated(have: length, need: FrameLayout.headerSize))
            return .stop
        }
        let header: FrameHeader
        switch FrameHeader.decode(from: frame, limits: handshaking ? Self.handshakeLimits : limits) {
        case .success(let decoded): header = decoded
        case .failure(let error):
            violation(error)
            return .stop
        }
        guard FrameLayout.headerSize + Int(header.payloadLength) <= length else {
            violation(.truncated(have: length, need: FrameLayout.headerSize + Int(header.payloadLength)))
            return .stop
        }
        let payload = UnsafeRawPointer(frame + FrameLayout.headerSize)
        if handshaking {
            let going = acceptorStep(header, payload: payload)
            repost(index, data: false)
            return going ? .next : .stop
        }
        switch header.kind {
        case .data, .request, .response:
            if behindRead { return .wait }
            guard let handler else {
                repost(index, data: true)
                return .next
            }
            delivered &+= 1
            switch delivery.pointee.deliver(header, payload: payload, end: delivered, to: handler, on: self) {
            case .next:
                repost(index, data: true)
                return terminated ? .stop : .next
            case .held:
                heldBuffer = index
                return .stop
            case .nextThenPause:
                repost(index, data: true)
                return .stop
            case .close:
                return .stop
            case .violation(let error):
                violation(error)
                return .stop
            }
        case .credit:
            if header.payloadLength >= 4 {
                let granted = UInt32(littleEndian: payload.loadUnaligned(as: UInt32.self))
                credits.add(Int(granted), ordering: .releasing)
            }
            repost(index, data: false)
            return .next
        case .heartbeat:
            repost(index, data: false)
            return .next
        case .close:
            if behindRead { return .wait }
            let reason = String(decoding: UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength)), as: UTF8.self)
            repost(index, data: false)
            peerClosedInOrder(reason: reason)
            return .stop
        case .rendezvousReady:
            return startRead(buffer: index, payload: UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength)))
        case .rendezvousDone:
            return rendezvousDone(
                buffer: index, payload: UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength)))
        case .hello, .helloReply, .auth:
            violation(.unexpectedKind(header.kind, state: "the connection is established"))
            return .stop
        }
    }

    /// Puts a buffer back on the SRQ; a data buffer counts towards the next credit grant.
    @inline(__always)
    func repost(_ index: Int, data: Bool) {
        guard !terminated else { return }
        let code = repostCode(index)
        if code != 0 {
            lost(SystemError("ibv_post_srq_recv", errno: code).description)
            return
        }
        if data { creditsToReturn += 1 }
    }

    // MARK: Acceptor handshake (IO thread)

    /// hello → (send helloReply) → auth → established. False when it failed.
    private func acceptorStep(_ header: FrameHeader, payload: UnsafeRawPointer) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength))
        guard acceptor != nil else { return false }
        do throws(TransportError) {
            if header.kind == .hello {
                let reply = try acceptor!.receiveHello(kind: header.kind, payload: bytes)
                guard postControl(reply) else { throw .handshakeFailed("no send slot for the helloReply") }
                return true
            }
            let outcome = try acceptor!.receiveAuth(kind: header.kind, payload: bytes)
            establish(outcome)
            return !terminated
        } catch {
            logger.warning("refusing verbs connection from \(peer.address): \(error)")
            if case .protocolViolation(let frameError) = error {
                violation(frameError)
            } else {
                sendCloseNow(reason: error.description)
                teardown(error: error, reason: error.description)
            }
            return false
        }
    }

    private func establish(_ outcome: HandshakeOutcome) {
        peer = PeerInfo(node: outcome.peerNode, address: peer.address, maxFramePayload: outcome.peerMaxFramePayload)
        setSendLimits(peerMaxFramePayload: outcome.peerMaxFramePayload)
        acceptor = nil
        timerDeadline = 0
        phase.store(Phase.open.rawValue, ordering: .releasing)
        startLiveness()
        let factory = handlerFactory
        handlerFactory = nil
        handler = factory?(peer)
        logger.debug("accepted verbs connection from \(peer)")
    }

    // MARK: Connector handshake (the connecting thread, before the IO thread takes over)

    /// Sends hello, waits for helloReply, sends auth; polls the CQ one completion at a time so
    /// that frames the acceptor sends right after the handshake stay queued for the IO thread.
    func connectorHandshake(_ handshake: ConnectorHandshake, until deadline: UInt64) throws(TransportError) {
        guard postControl(handshake.firstFrame()) else { throw .handshakeFailed("cannot post the hello") }
        while true {
            guard VerbsClock.now < deadline else {
                throw .timedOut("the acceptor at \(peer.address) did not answer the hello in time")
            }
            let count = VerbsSyscalls.poll(queuePair.cq, into: completions, capacity: 1)
            if count < 0 { throw .handshakeFailed("ibv_poll_cq failed during the handshake") }
            if count == 0 {
                sched_yield()
                continue
            }
            let completion = completions[0]
            guard completion.status == IBV_WC_SUCCESS else {
                throw .handshakeFailed(
                    "the queue pair to \(peer.address) failed during the handshake: \(VerbsSyscalls.describe(completion.status))")
            }
            let kind = WorkKind(rawValue: completion.wr_id >> 56) ?? .send
            let value = completion.wr_id & 0x00FF_FFFF_FFFF_FFFF
            guard kind == .receive else {
                sendCompleted(kind: kind, value: value)
                continue
            }
            let frame = receiveBase + Int(value) * bufferBytes
            let header: FrameHeader
            switch FrameHeader.decode(from: frame, limits: Self.handshakeLimits) {
            case .success(let decoded): header = decoded
            case .failure(let error): throw .protocolViolation(error)
            }
            let bytes = UnsafeRawBufferPointer(
                start: frame + FrameLayout.headerSize,
                count: min(Int(header.payloadLength), max(0, Int(completion.byte_len) - FrameLayout.headerSize)))
            _ = repostCode(Int(value))
            if header.kind == .close {
                throw .handshakeFailed(
                    "the acceptor at \(peer.address) refused the connection: \(String(decoding: bytes, as: UTF8.self))")
            }
            let (auth, outcome) = try handshake.receiveReply(kind: header.kind, payload: bytes)
            guard postControl(auth) else { throw .handshakeFailed("cannot post the auth frame") }
            peer = PeerInfo(node: outcome.peerNode, address: peer.address, maxFramePayload: outcome.peerMaxFramePayload)
            setSendLimits(peerMaxFramePayload: outcome.peerMaxFramePayload)
            phase.store(Phase.open.rawValue, ordering: .releasing)
            return
        }
    }
}
