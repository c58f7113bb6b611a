/// Hands a connection's frames to its handler in place, one at a time: shared by the
/// transports whose receive memory is reused in order (rings, in-process queues).
///
/// It owns the release cursors, the pause while a handler holds a frame, and the
/// reassembly of fragments; the transport only consumes what `deliver` says it may.
package struct InOrderDelivery: ~Copyable {
    @usableFromInline let cursor = ReleaseCursor()
    @usableFromInline var heldEnd: UInt64 = 0
    @usableFromInline var assembler: FragmentAssembler
    @usableFromInline let assembledCursor = ReleaseCursor()
    @usableFromInline var assembledSerial: UInt64 = 0
    @usableFromInline var assembledHeld = false

    public init(limits: FrameLimits, reassembly: ReassemblyLimits = ReassemblyLimits()) {
        assembler = FragmentAssembler(limits: limits, reassembly: reassembly)
    }

    /// What the transport does after `deliver`.
    public enum Outcome: Equatable {
        /// Consume the frame and go on.
        case next
        /// The handler holds the frame: consume nothing and stop until `resume` allows.
        case held
        /// Consume the frame (its bytes were copied), then stop until `resume` allows.
        case nextThenPause
        /// The peer closed in order: consume the frame and close.
        case close
        /// Close the connection with this error.
        case violation(FrameError)
    }

    /// Whether delivery may go on.
    public enum Resumption: Equatable {
        case ready
        /// A held frame was released: consume up to this position, then go on.
        case released(end: UInt64)
        case blocked
    }

    /// True while the handler holds a frame (the IO thread must poll to notice its release).
    @inlinable public var isHolding: Bool { heldEnd != 0 || assembledHeld }

    /// Called as the connection itself goes: true when its handler still holds a frame. The
    /// frame keeps what it points at (its release cursor, an assembled message's buffer), and
    /// the transport must leave its receive memory to it too: a small leak, never a write to
    /// freed memory. Transports that keep a connection alive until its frames are released
    /// (shm) reach this only when their IO thread stopped first.
    package mutating func leaveMemoryToHeldFrames() -> Bool {
        for _ in 0..<2 where isHolding { _ = resume() }
        guard isHolding else { return false }
        _ = Unmanaged.passRetained(cursor)
        if assembledHeld {
            _ = Unmanaged.passRetained(assembledCursor)
            assembler.leaveBufferToHeldMessage()
        }
        return true
    }

    @inlinable
    public mutating func resume() -> Resumption {
        if heldEnd != 0 {
            guard cursor.position >= heldEnd else { return .blocked }
            let end = heldEnd
            heldEnd = 0
            return assembledHeld ? .blocked : .released(end: end)
        }
        if assembledHeld {
            guard assembledCursor.position == assembledSerial else { return .blocked }
            assembledHeld = false
            assembler.releaseIdleMemory()
        }
        return .ready
    }

    /// Handles one validated frame whose record ends at `end` in the transport's memory.
    @inlinable @inline(__always)
    public mutating func deliver(
        _ header: FrameHeader, payload: UnsafeRawPointer, end: UInt64,
        to handler: any ConnectionHandler, on connection: any TransportConnection
    ) -> Outcome {
        switch header.kind {
        case .data, .request, .response:
            if header.flags.contains(.fragment) { return deliverFragment(header, payload: payload, to: handler, on: connection) }
            handler.received(
                ReceivedFrame(header: header, payload: payload, releaseCursor: cursor.pointer, releasePosition: end),
                on: connection)
            if cursor.position >= end { return .next }
            heldEnd = end
            return .held
        case .heartbeat, .credit:
            return .next
        case .close:
            return .close
        case .hello, .helloReply, .auth:
            return .violation(.unexpectedKind(header.kind, state: "connected"))
        case .rendezvousReady, .rendezvousDone:
            return .violation(.unexpectedKind(header.kind, state: "using a transport without RDMA rendezvous"))
        }
    }

    @usableFromInline
    mutating func deliverFragment(
        _ header: FrameHeader, payload: UnsafeRawPointer, to handler: any ConnectionHandler,
        on connection: any TransportConnection
    ) -> Outcome {
        let whole: FrameHeader?
        do { whole = try assembler.append(header, payload: payload) } catch { return .violation(error) }
        guard let whole else { return .next }
        assembledSerial &+= 1
        handler.received(
            ReceivedFrame(
                header: whole, payload: assembler.messageBytes, releaseCursor: assembledCursor.pointer,
                releasePosition: assembledSerial),
            on: connection)
        if assembledCursor.position == assembledSerial {
            assembler.releaseIdleMemory()
            return .next
        }
        assembledHeld = true
        return .nextThenPause
    }
}
