import WeftCore

/// RDMA rendezvous, the receiving side (IO thread): each `rendezvousReady` becomes one RDMA
/// READ of the whole frame into the next free place of the read region; as each completes
/// (in order), the peer is told (`rendezvousDone`) and the frame is delivered in place in its
/// turn. And the sending side's end: a `rendezvousDone` frees the send region up to that frame.
extension VerbsConnection {
    /// The peer offers a frame to read: one RDMA READ of the whole frame into the read region.
    /// The ready frame's buffer goes back at once (with its credit). `.wait` leaves the ready
    /// queued until a frame read earlier is handled and frees room.
    /// corresponding C function: `ibv_post_send` (`IBV_WR_RDMA_READ`).
    func startRead(buffer index: Int, payload: UnsafeRawBufferPointer) -> ReceiveStep {
        let ready: RendezvousReady
        do throws(FrameError) {
            ready = try RendezvousReady.decode(payload)
        } catch {
            violation(error)
            return .stop
        }
        guard Int(ready.frameLength) <= rendezvousFrameBytes else {
            violation(.tooLong(length: Int(ready.frameLength), limit: rendezvousFrameBytes))
            return .stop
        }
        guard let read = reads.add(length: Int(ready.frameLength), token: ready.token) else { return .wait }
        let code = VerbsSyscalls.postRead(
            qp, id: Self.workID(.read, ready.token & 0x00FF_FFFF_FFFF_FFFF),
            into: rendezvousReadBase + reads.region.offset(read.start), length: read.length, lkey: lkey,
            from: ready.address, rkey: ready.remoteKey)
        guard code == 0 else {
            lost(portDownSentence() ?? SystemError("ibv_post_send (RDMA READ)", errno: code).description)
            return .stop
        }
        repost(index, data: true)
        return .next
    }

    /// A READ completed (READs complete in the order posted): the peer's memory is free up to
    /// that frame (say so now); the frame waits its turn.
    func readCompleted() {
        guard let read = reads.complete() else { return }
        VerbsCounters.bump(counters.rdmaReads)
        VerbsCounters.bump(counters.rdmaReadBytes, by: UInt64(read.length))
        doneToSend = read.token
        sendDone()
    }

    /// Hands up the oldest frame read, in place, as if a send had brought it.
    /// False when handling must stop for now.
    func deliverRead() -> Bool {
        let read = reads.frontRead
        let frame = UnsafeRawPointer(rendezvousReadBase + reads.region.offset(read.start))
        let header: FrameHeader
        switch FrameHeader.decode(from: frame, limits: rendezvousLimits) {
        case .success(let decoded): header = decoded
        case .failure(let error):
            violation(error)
            return false
        }
        let length = FrameLayout.headerSize + Int(header.payloadLength)
        guard length == read.length else {
            violation(.malformedPayload("the frame read by RDMA is \(length) bytes, its rendezvousReady said \(read.length)"))
            return false
        }
        switch header.kind {
        case .data, .request, .response: break
        default:
            violation(.unexpectedKind(header.kind, state: "reading a frame by RDMA rendezvous"))
            return false
        }
        guard let handler else {
            reads.freeFront()
            return true
        }
        delivered &+= 1
        switch delivery.pointee.deliver(header, payload: frame + FrameLayout.headerSize, end: delivered, to: handler, on: self) {
        case .next:
            reads.freeFront()
            return !terminated
        case .held:
            // Freed when the handler releases it (`drainReceives`).
            reads.frontHeld = true
            return false
        case .nextThenPause:
            reads.freeFront()
            return false
        case .close:
            return false
        case .violation(let error):
            violation(error)
            return false
        }
    }

    /// The peer read our frames up to `token`: their space in the send region is free.
    func rendezvousDone(buffer index: Int, payload: UnsafeRawBufferPointer) -> ReceiveStep {
        let done: RendezvousDone
        do throws(FrameError) {
            done = try RendezvousDone.decode(payload)
        } catch {
            violation(error)
            return .stop
        }
        let freed = rendezvousFreed.load(ordering: .relaxed)
        guard done.token > freed, done.token <= rendezvousIssued.load(ordering: .acquiring) else {
            violation(.unexpectedKind(.rendezvousDone, state: "no rendezvous with token \(done.token) is outstanding"))
            return .stop
        }
        sendRegionHead.store(
            rendezvousEnds[Int(done.token % UInt64(VerbsConfiguration.maxRendezvousInFlight))], ordering: .releasing)
        rendezvousFreed.store(done.token, ordering: .releasing)
        repost(index, data: false)
        return .next
    }
}
