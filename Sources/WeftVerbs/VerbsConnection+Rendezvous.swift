import WeftCore

/// RDMA rendezvous, the receiving side (IO thread): a `rendezvousReady` becomes one RDMA READ
/// of the whole frame into the read region; once it completes, the peer is told
/// (`rendezvousDone`) and the frame is delivered in place in its turn. And the sending side's
/// end: a `rendezvousDone` frees the send region.
extension VerbsConnection {
    /// The peer offers a frame to read: one RDMA READ of the whole frame into the read region.
    /// The ready frame's buffer goes back at once (with its credit); handling stops until the
    /// READ completes. corresponding C function: `ibv_post_send` (`IBV_WR_RDMA_READ`).
    func startRead(buffer index: Int, payload: UnsafeRawBufferPointer) -> Bool {
        let ready: RendezvousReady
        do throws(FrameError) {
            ready = try RendezvousReady.decode(payload)
        } catch {
            violation(error)
            return false
        }
        guard Int(ready.frameLength) <= rendezvousFrameBytes else {
            violation(.tooLong(length: Int(ready.frameLength), limit: rendezvousFrameBytes))
            return false
        }
        let code = VerbsSyscalls.postRead(
            qp, id: Self.workID(.read, ready.token & 0x00FF_FFFF_FFFF_FFFF), into: rendezvousReadBase,
            length: Int(ready.frameLength), lkey: lkey, from: ready.address, rkey: ready.remoteKey)
        guard code == 0 else {
            lost(portDownSentence() ?? SystemError("ibv_post_send (RDMA READ)", errno: code).description)
            return false
        }
        readState = .reading
        readLength = Int(ready.frameLength)
        readToken = ready.token
        repost(index, data: true)
        return false
    }

    /// The READ completed: the peer's region is free (say so now), the frame waits its turn.
    func readCompleted() {
        guard readState == .reading else { return }
        readState = .read
        VerbsCounters.bump(counters.rdmaReads)
        VerbsCounters.bump(counters.rdmaReadBytes, by: UInt64(readLength))
        doneToSend = readToken
        sendDone()
    }

    /// Hands up the frame in the read region, in place, as if a send had brought it.
    /// False when handling must stop for now.
    func deliverRead() -> Bool {
        let frame = UnsafeRawPointer(rendezvousReadBase)
        let header: FrameHeader
        switch FrameHeader.decode(from: frame, limits: rendezvousLimits) {
        case .success(let decoded): header = decoded
        case .failure(let error):
            violation(error)
            return false
        }
        let length = FrameLayout.headerSize + Int(header.payloadLength)
        guard length == readLength else {
            violation(.malformedPayload("the frame read by RDMA is \(length) bytes, its rendezvousReady said \(readLength)"))
            return false
        }
        switch header.kind {
        case .data, .request, .response: break
        default:
            violation(.unexpectedKind(header.kind, state: "reading a frame by RDMA rendezvous"))
            return false
        }
        guard let handler else { return true }
        delivered &+= 1
        // Held: nothing to repost on release (`heldBuffer` stays -1); the region is free then.
        switch delivery.pointee.deliver(header, payload: frame + FrameLayout.headerSize, end: delivered, to: handler, on: self) {
        case .next: return !terminated
        case .held, .nextThenPause, .close: return false
        case .violation(let error):
            violation(error)
            return false
        }
    }

    /// The peer read our frame: the rendezvous send region is free for the next large frame.
    func rendezvousDone(buffer index: Int, payload: UnsafeRawBufferPointer) -> Bool {
        let done: RendezvousDone
        do throws(FrameError) {
            done = try RendezvousDone.decode(payload)
        } catch {
            violation(error)
            return false
        }
        let freed = rendezvousFreed.load(ordering: .relaxed)
        guard done.token == freed &+ 1, done.token <= rendezvousIssued.load(ordering: .acquiring) else {
            violation(.unexpectedKind(.rendezvousDone, state: "no rendezvous with token \(done.token) is outstanding"))
            return false
        }
        rendezvousFreed.store(done.token, ordering: .releasing)
        repost(index, data: false)
        return true
    }
}
