import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The send side: reservations in the ring, and the writer that moves committed frames
/// to the socket with one `writev` of at most two segments.
extension TCPConnection {
    // MARK: Reserve and commit (any sender thread)

    public func reserve(capacity: Int) throws(TransportError) -> SendReservation {
        try checkCapacity(capacity)
        let start = try lockAndClaim(FrameHeader.paddedFrameSize(payload: capacity))
        return SendReservation(frame: sendBase + Int(start & sendMask), capacity: capacity, token: start, hooks: reservationHooks)
    }

    /// Before any arithmetic on it: a capacity past the peer's frame limit (or negative) is
    /// refused (a connection not open yet has no limit: it says it is not open).
    @inline(__always)
    private func checkCapacity(_ capacity: Int) throws(TransportError) {
        guard capacity >= 0, capacity <= maxReservation else {
            guard phase.load(ordering: .relaxed) == Phase.open.rawValue else { throw closedError() }
            throw .messageTooLarge(size: capacity, limit: maxReservation)
        }
    }

    /// Takes the send side and claims `bytes`; the send side stays held when it returns
    /// (commit or abandon lets it go).
    @inline(__always)
    private func lockAndClaim(_ bytes: Int) throws(TransportError) -> UInt64 {
        sendLock?.lock()
        guard phase.load(ordering: .relaxed) == Phase.open.rawValue else {
            sendLock?.unlock()
            throw closedError()
        }
        guard let start = claim(bytes) else {
            sendLock?.unlock()
            throw .wouldBlock
        }
        return start
    }

    /// Room for `frames` frames of up to `capacity` payload bytes, contiguous in the ring (at
    /// most a quarter of it), committed with one tail update: a one-way stream then writes
    /// a whole batch with one `writev`, even from a sender that writes itself because the
    /// IO thread sleeps.
    public func reserveBatch(frames: Int, capacity: Int) throws(TransportError) -> SendBatch {
        try checkCapacity(capacity)
        let frameSize = FrameHeader.paddedFrameSize(payload: capacity)
        let quarter = Int(sendCapacity / 4)
        let bytes = frameSize * max(1, min(frames, quarter / frameSize))
        let start = try lockAndClaim(bytes)
        return SendBatch(
            start: sendBase + Int(start & sendMask), room: bytes, capacity: capacity, token: start, hooks: reservationHooks,
            layout: Self.batchLayout)
    }

    /// Frames back to back, each padded to 8 bytes (the stream's framing).
    private static let batchLayout = SendBatch.Layout(recordPrefix: 0, recordAlignment: FrameLayout.alignment) {
        context, start, token, bytes in
        Unmanaged<TCPConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
            $0.commitBatch(start: start, token: token, bytes: bytes)
        }
    }

    /// Zeroes each frame's padding (the wire wants zeros, and the ring holds older frames'
    /// bytes there), then publishes the batch as one commit.
    func commitBatch(start: UnsafeMutableRawPointer, token: UInt64, bytes: Int) {
        var offset = 0
        while offset < bytes {
            let length = Int(
                UInt32(
                    littleEndian: start.loadUnaligned(
                        fromByteOffset: offset + FrameLayout.payloadLengthOffset, as: UInt32.self)))
            // Bounded by the batch even if a caller wrote past its payload into a header.
            let end = offset + min(FrameHeader.paddedFrameSize(payload: min(length, bytes)), bytes - offset)
            let used = min(offset + FrameLayout.headerSize + length, end)
            for index in used..<end { start.storeBytes(of: 0, toByteOffset: index, as: UInt8.self) }
            offset = end
        }
        tail = token &+ UInt64(bytes)
        committed.store(tail, ordering: .sequentiallyConsistent)
        sendLock?.unlock()
        publish()
    }

    /// The reservation's way back here, with no reference counting (see `ReservationHooks`).
    var reservationHooks: ReservationHooks {
        ReservationHooks(
            context: Unmanaged.passUnretained(self).toOpaque(),
            commit: { context, frame, token, length in
                Unmanaged<TCPConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.commitReservation(frame: frame, token: token, payloadLength: length)
                }
            },
            abandon: { context, token in
                Unmanaged<TCPConnection>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.abandonReservation(token: token) }
            })
    }

    func commitReservation(frame: UnsafeMutableRawPointer, token: UInt64, payloadLength: UInt32) {
        let used = FrameLayout.headerSize + Int(payloadLength)
        let size = FrameHeader.paddedFrameSize(payload: Int(payloadLength))
        for offset in used..<size { frame.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self) }
        tail = token &+ UInt64(size)
        committed.store(tail, ordering: .sequentiallyConsistent)
        sendLock?.unlock()
        publish()
    }

    func abandonReservation(token: UInt64) {
        sendLock?.unlock()
    }

    /// Finds `size` contiguous bytes for the next frame; nil when the ring is full even
    /// after pushing what is committed to the socket.
    ///
    /// A frame that does not fit before the ring's end starts the next lap at offset 0
    /// (the rest of this lap is padding, never sent). When the ring is empty, the next
    /// frame starts over at offset 0 as well, so a request-response exchange keeps
    /// reusing the same few cache lines.
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
            // Full: push what is committed, unless the socket is full too (its writable edge resumes the IO thread).
            if writeBlocked.load(ordering: .relaxed) { return nil }
            requestWrite()
            written = sent.load(ordering: .acquiring)
            if start &+ size &- written > sendCapacity { return nil }
        }
        // The frame opens a lap: tell the writer where the previous lap's data ended.
        if start & sendMask == 0 { wrapMark.store(tail, ordering: .relaxed) }
        return start
    }

    /// After a commit: on the IO thread, flush after the batch; elsewhere, write now only
    /// if the IO thread sleeps (it polls the committed position while awake).
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
        for offset in bytes.count..<size { base.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self) }
        tail = start &+ UInt64(size)
        committed.store(tail, ordering: .sequentiallyConsistent)
        return true
    }

    // MARK: The writer

    /// Takes the writer role and writes, or leaves a request for the thread holding it.
    ///
    /// `writers` counts requests; the thread that raised it from zero writes until it
    /// brings it back to zero, making one more pass for requests that came meanwhile.
    /// After teardown the holder closes the socket and keeps the role forever, so no
    /// thread can call into a descriptor number that may already be reused.
    func requestWrite() {
        guard writers.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue == 0 else { return }
        var handled = 1
        while true {
            if terminating.load(ordering: .acquiring) {
                TCPSocket.close(fd)
                return
            }
            writeBlocked.store(false, ordering: .relaxed)
            if let code = writeOut() { recordSendFailure(code) }
            let left = writers.wrappingSubtract(handled, ordering: .acquiringAndReleasing).newValue
            if left == 0 { return }
            handled = left
        }
    }

    /// Writes committed frames, then the close frame when one is asked for, until done or
    /// the socket is full; a heartbeat asked for goes between frames, once all committed
    /// frames are out. Returns errno when the socket failed. Writer role only.
    func writeOut() -> Int32? {
        if closeFrameWritten.load(ordering: .relaxed) { return nil }
        var position = sent.load(ordering: .relaxed)
        while true {
            if closeFrameProgress > 0 { return writeCloseFrame() }
            if heartbeatProgress > 0 {
                if let code = writeHeartbeatFrame() { return code }
                if heartbeatProgress > 0 { return nil }
            }
            let end = committed.load(ordering: .acquiring)
            if position == end {
                if !closeRequested.load(ordering: .acquiring)
                    && heartbeatRequested.exchange(false, ordering: .acquiringAndReleasing)
                {
                    if let code = writeHeartbeatFrame() { return code }
                    if heartbeatProgress > 0 { return nil }
                    continue
                }
                guard closeRequested.load(ordering: .acquiring) else { return nil }
                // Everything committed before the close was asked for goes first.
                if committed.load(ordering: .acquiring) != position { continue }
                return writeCloseFrame()
            }
            let lapEnd = (position & ~sendMask) &+ sendCapacity
            let firstLength: UInt64
            var secondLength: UInt64 = 0
            if end > lapEnd {
                let dataEnd = wrapMark.load(ordering: .relaxed)
                if position == dataEnd {
                    position = lapEnd
                    sent.store(position, ordering: .releasing)
                    continue
                }
                firstLength = dataEnd &- position
                secondLength = end &- lapEnd
            } else {
                firstLength = end &- position
            }
            let written: Int?
            do {
                written = try TCPSocket.send(
                    fd, sendBase + Int(position & sendMask), Int(firstLength), sendBase, Int(secondLength))
            } catch {
                return error.errno
            }
            guard let written else {
                writeBlocked.store(true, ordering: .relaxed)
                return nil
            }
            let count = UInt64(written)
            position = secondLength > 0 && count >= firstLength ? lapEnd &+ (count &- firstLength) : position &+ count
            sent.store(position, ordering: .releasing)
            if count < firstLength &+ secondLength {
                // A short write means the socket buffer is full; its writable edge resumes us.
                writeBlocked.store(true, ordering: .relaxed)
                return nil
            }
        }
    }

    private func writeCloseFrame() -> Int32? {
        while closeFrameProgress < closeFrameLength {
            let written: Int?
            do {
                written = try TCPSocket.send(
                    fd, closeFrame + closeFrameProgress, closeFrameLength - closeFrameProgress, nil, 0)
            } catch {
                return error.errno
            }
            guard let written else {
                writeBlocked.store(true, ordering: .relaxed)
                return nil
            }
            closeFrameProgress += written
        }
        closeFrameWritten.store(true, ordering: .releasing)
        return nil
    }

    /// Writes the heartbeat frame from `heartbeatProgress`; leaves it there when the socket
    /// is full (the frame is finished before anything else goes out), 0 once done.
    private func writeHeartbeatFrame() -> Int32? {
        while true {
            let written: Int?
            do {
                written = try TCPSocket.send(
                    fd, heartbeatFrame + heartbeatProgress, FrameLayout.headerSize - heartbeatProgress, nil, 0)
            } catch {
                return error.errno
            }
            guard let written else {
                writeBlocked.store(true, ordering: .relaxed)
                return nil
            }
            heartbeatProgress += written
            if heartbeatProgress == FrameLayout.headerSize {
                heartbeatProgress = 0
                return nil
            }
        }
    }

    /// A write failed (any thread): the IO thread ends the connection.
    func recordSendFailure(_ code: Int32) {
        guard sendFailure.compareExchange(expected: 0, desired: code, ordering: .relaxed).exchanged else { return }
        ioThread.execute { [self] in
            lost(
                code == EPIPE || code == ECONNRESET
                    ? "connection reset by peer" : SystemError("sendmsg", errno: code).description)
        }
    }
}
