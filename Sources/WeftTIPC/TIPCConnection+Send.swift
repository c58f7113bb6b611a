import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The send side: reservations in the ring, and the writer that sends committed frames
/// as TIPC messages, up to 64 per `sendmmsg`, straight from the ring (no copy by Weft).
extension TIPCConnection {
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
        guard let start = claim(FrameHeader.paddedFrameSize(payload: capacity)) else {
            sendLock?.unlock()
            throw .wouldBlock
        }
        return SendReservation(
            frame: sendBase + Int(start & sendMask), capacity: capacity, token: start, hooks: reservationHooks)
    }

    /// The reservation's way back here, with no reference counting (see `ReservationHooks`).
    var reservationHooks: ReservationHooks {
        ReservationHooks(
            context: Unmanaged.passUnretained(self).toOpaque(),
            commit: { context, frame, token, length in
                Unmanaged<TIPCConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.commitReservation(token: token, payloadLength: length)
                }
            },
            abandon: { context, _ in
                Unmanaged<TIPCConnection>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.sendLock?.unlock() }
            })
    }

    @inline(__always)
    func commitReservation(token: UInt64, payloadLength: UInt32) {
        // The message is header plus payload; the ring keeps frames 8-aligned, no padding is sent.
        tail = token &+ UInt64(FrameHeader.paddedFrameSize(payload: Int(payloadLength)))
        committed.store(tail, ordering: .sequentiallyConsistent)
        sendLock?.unlock()
        publish()
    }

    /// Finds `size` contiguous bytes for the next frame; nil when the ring is full even
    /// after sending what is committed. Same lap rules as the TCP ring.
    @inline(__always)
    func claim(_ size: Int) -> UInt64? {
        let size = UInt64(size)
        let offset = tail & sendMask
        var written = sent.load(ordering: .acquiring)
        var start = tail
        if offset != 0 && (offset + size > sendCapacity || (written == tail && offset >= size)) {
            start = tail &+ (sendCapacity - offset)
        }
        if start &+ size &- written > sendCapacity {
            if writeBlocked.load(ordering: .relaxed) { return nil }
            requestWrite()
            written = sent.load(ordering: .acquiring)
            if start &+ size &- written > sendCapacity { return nil }
        }
        if start & sendMask == 0 { wrapMark.store(tail, ordering: .relaxed) }
        return start
    }

    @inline(__always)
    func publish() {
        if ioThread.isCurrent {
            if let registration { ioThread.markDirty(registration) }
        } else if ioThreadAsleep.load(ordering: .sequentiallyConsistent) {
            requestWrite()
        }
    }

    /// Puts a handshake frame in the ring (IO thread, before any user can send).
    func enqueue(_ frame: HandshakeFrame) -> Bool {
        let bytes = frame.encoded()
        let size = FrameHeader.paddedFrameSize(payload: frame.payload.count)
        guard let start = claim(size) else { return false }
        let base = sendBase + Int(start & sendMask)
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        tail = start &+ UInt64(size)
        committed.store(tail, ordering: .sequentiallyConsistent)
        return true
    }

    // MARK: The writer

    /// Takes the writer role and sends, or leaves a request for the thread holding it
    /// (a combining counter, as in the TCP transport). After teardown the holder closes the
    /// socket and keeps the role, so no thread sends on a reused descriptor number.
    func requestWrite() {
        guard writers.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue == 0 else { return }
        var handled = 1
        while true {
            if terminating.load(ordering: .acquiring) {
                TIPCSyscalls.close(fd)
                return
            }
            writeBlocked.store(false, ordering: .relaxed)
            if let code = writeOut() { recordSendFailure(code) }
            let left = writers.wrappingSubtract(handled, ordering: .acquiringAndReleasing).newValue
            if left == 0 { return }
            handled = left
        }
    }

    /// Sends committed frames, then the close frame when one is asked for, until done or
    /// the connection is congested; a heartbeat asked for goes once every committed frame
    /// is out. Returns errno when the socket failed. Writer role only.
    func writeOut() -> Int32? {
        if closeFrameWritten.load(ordering: .relaxed) { return nil }
        var position = sent.load(ordering: .relaxed)
        while true {
            let end = committed.load(ordering: .acquiring)
            if position == end {
                if !closeRequested.load(ordering: .acquiring)
                    && heartbeatRequested.exchange(false, ordering: .acquiringAndReleasing)
                {
                    if let code = writeHeartbeatFrame() { return code }
                    continue
                }
                guard closeRequested.load(ordering: .acquiring) else { return nil }
                if committed.load(ordering: .acquiring) != position { continue }
                return writeCloseFrame()
            }
            var count = 0
            while position != end && count < TIPCSyscalls.batchLimit {
                let lapEnd = (position & ~sendMask) &+ sendCapacity
                if end > lapEnd && position == wrapMark.load(ordering: .relaxed) {
                    position = lapEnd
                    continue
                }
                let frame = sendBase + Int(position & sendMask)
                let payload = UInt32(
                    littleEndian: frame.load(fromByteOffset: FrameLayout.payloadLengthOffset, as: UInt32.self))
                batchBases[count] = frame
                batchLengths[count] = UInt32(FrameLayout.headerSize) &+ payload
                position &+= UInt64(FrameHeader.paddedFrameSize(payload: Int(payload)))
                batchEnds[count] = position
                count += 1
            }
            if count == 0 {
                // Only a lap's padding was left.
                sent.store(position, ordering: .releasing)
                continue
            }
            let messages: Int?
            do {
                messages = try TIPCSyscalls.sendBatch(fd, bases: batchBases, lengths: batchLengths, count: count)
            } catch {
                return error.errno
            }
            guard let messages, messages > 0 else {
                // Congested: the peer has not acknowledged enough; its writable edge resumes us.
                writeBlocked.store(true, ordering: .relaxed)
                return nil
            }
            position = batchEnds[messages - 1]
            sent.store(position, ordering: .releasing)
            if messages < count {
                writeBlocked.store(true, ordering: .relaxed)
                return nil
            }
        }
    }

    private func writeCloseFrame() -> Int32? {
        batchBases[0] = closeFrame
        batchLengths[0] = UInt32(closeFrameLength)
        let messages: Int?
        do {
            messages = try TIPCSyscalls.sendBatch(fd, bases: batchBases, lengths: batchLengths, count: 1)
        } catch {
            return error.errno
        }
        guard messages == 1 else {
            writeBlocked.store(true, ordering: .relaxed)
            return nil
        }
        closeFrameWritten.store(true, ordering: .releasing)
        return nil
    }

    /// One heartbeat message; congested, it is dropped (the peer is not reading anyway).
    private func writeHeartbeatFrame() -> Int32? {
        batchBases[0] = heartbeatFrame
        batchLengths[0] = UInt32(FrameLayout.headerSize)
        do {
            _ = try TIPCSyscalls.sendBatch(fd, bases: batchBases, lengths: batchLengths, count: 1)
        } catch {
            return error.errno
        }
        return nil
    }

    /// A send failed (any thread): the IO thread ends the connection.
    func recordSendFailure(_ code: Int32) {
        guard sendFailure.compareExchange(expected: 0, desired: code, ordering: .relaxed).exchanged else { return }
        ioThread.execute { [self] in
            lost(
                code == EPIPE || code == ECONNRESET || code == ENOTCONN
                    ? "connection reset by peer" : SystemError("sendmmsg", errno: code).description)
        }
    }
}
