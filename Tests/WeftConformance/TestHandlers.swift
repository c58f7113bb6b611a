import Dispatch
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A frame as a test keeps it: header and a copy of the payload.
public struct CollectedFrame: Sendable {
    public var header: FrameHeader
    public var payload: [UInt8]
    public var connection: ConnectionID
}

/// Collects what arrives, optionally holding frames (to test back-pressure) or checking them.
public final class CollectingHandler: ConnectionHandler, @unchecked Sendable {
    private struct State {
        var frames: [CollectedFrame] = []
        var closed: [ConnectionID: TransportError?] = [:]
        var connections: [any TransportConnection] = []
    }
    private let state = Locked(State())
    /// Runs on the IO thread for each frame before it is recorded (may inspect the in-place view).
    public var inspect: (@Sendable (borrowing ReceivedFrame, any TransportConnection) -> Void)?
    /// While true, the handler records the first frame it is given and keeps it unreleased.
    public let hold = Atomic<Bool>(false)
    private let heldFrames = Locked<[ReceivedFrameBox]>([])

    public init() {}

    public func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        inspect?(frame, connection)
        let copy = CollectedFrame(header: frame.header, payload: frame.payloadBytes(), connection: connection.id)
        state.withLock {
            $0.frames.append(copy)
            if !$0.connections.contains(where: { $0 === connection }) { $0.connections.append(connection) }
        }
        if hold.load(ordering: .acquiring) {
            let box = ReceivedFrameBox(frame)
            heldFrames.withLock { $0.append(box) }
        }
    }

    public func closed(_ connection: any TransportConnection, error: TransportError?) {
        state.withLock {
            precondition($0.closed[connection.id] == nil, "closed reported twice for \(connection.id)")
            $0.closed[connection.id] = error
        }
    }

    /// Releases frames kept while `hold` was set.
    public func releaseHeld() {
        hold.store(false, ordering: .releasing)
        let boxes = heldFrames.withLock { boxes -> [ReceivedFrameBox] in
            let taken = boxes
            boxes.removeAll()
            return taken
        }
        for box in boxes { box.release() }
    }

    public var frames: [CollectedFrame] { state.withLock { $0.frames } }
    public var frameCount: Int { state.withLock { $0.frames.count } }
    public var closedConnections: [ConnectionID: TransportError?] { state.withLock { $0.closed } }
    public var connections: [any TransportConnection] { state.withLock { $0.connections } }

    /// Waits until `condition` holds or `timeout` passes; false on time-out.
    public func wait(timeout: Duration = .seconds(20), until condition: (CollectingHandler) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            if ContinuousClock.now >= deadline { return false }
            usleep(1000)
        }
        return true
    }
}

/// Keeps a received frame alive across threads (tests only).
public final class ReceivedFrameBox: @unchecked Sendable {
    private var frame: ReceivedFrame?
    public init(_ frame: consuming ReceivedFrame) { self.frame = consume frame }
    public func release() { frame = nil }
}

/// Answers every request with a response carrying the same payload and correlation id.
public final class EchoHandler: ConnectionHandler, @unchecked Sendable {
    public let closedCount = Atomic<Int>(0)
    private let replies = DispatchQueue(label: "weft.echo.large-replies")
    /// Replies handed to `replies` and not yet sent: while any is, later ones queue behind it.
    private let queued = Atomic<Int>(0)
    public init() {}

    public func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        guard frame.kind == .request else { return }
        var header = frame.header
        header.kind = .response
        let bytes = UnsafeRawBufferPointer(start: frame.payloadBaseAddress, count: frame.count)
        if bytes.count <= connection.maxReservation && queued.load(ordering: .acquiring) == 0 {
            do {
                try connection.send(bytes, header: header, timeout: nil)
                return
            } catch .wouldBlock {
                // The transport pushes back (verbs: its one rendezvous region is still being
                // read); the IO thread must not wait, so this reply goes the slow way.
            } catch {
                return
            }
        }
        // A reply that must be fragmented, or wait for the peer to drain, goes from another
        // thread (the IO thread must never wait), in order with the others sent from there.
        let copy = Array(bytes)
        let reply = header
        queued.add(1, ordering: .releasing)
        replies.async { [self] in
            copy.withUnsafeBytes { try? connection.send($0, header: reply, timeout: .seconds(20)) }
            queued.subtract(1, ordering: .releasing)
        }
    }

    public func closed(_ connection: any TransportConnection, error: TransportError?) {
        closedCount.wrappingAdd(1, ordering: .relaxed)
    }
}
