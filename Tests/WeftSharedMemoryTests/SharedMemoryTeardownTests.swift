import Foundation
import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

/// Who owns what when a connection ends: frames point into the ring and at the release
/// cursor without a reference, so the connection must outlive them. Run under the address
/// and thread sanitizers by `./scripts/test`, where a use after free or a race is reported.
@Suite(.serialized) struct SharedMemoryTeardownTests {
    /// The peer closes while the handler holds a frame: the frame stays readable in place,
    /// its release writes into live memory, and only then does the connection go.
    @Test func heldFrameOutlivesItsConnectionsClose() throws {
        let harness = try ConformanceHarness(SharedMemorySubject())
        defer { harness.shutdown() }
        let holder = FrameHolder()
        let listener = try harness.listen { _ in holder }
        defer { listener.close() }
        let sent = patternBytes(256, seed: 7)
        do {
            let connection = try harness.connect(to: listener)
            try connection.send(sent)
            #expect(holder.wait { $0.held != nil })
            connection.close()
        }
        #expect(holder.wait { $0.closed })
        // Long enough for the IO thread to have torn the connection down many times over.
        usleep(100_000)
        try #require(holder.connectionIsAlive, "the connection went while its handler still holds a frame")
        #expect(holder.heldPayload() == sent)
        holder.releaseFrame()
        #expect(holder.wait(timeout: .seconds(5)) { _ in !holder.connectionIsAlive }, "released, the connection should go")
    }

    /// A handler that closes its connection from `received` and keeps the frame still reads
    /// it in place afterwards: the teardown waits for the release.
    @Test func handlerClosingInsideReceivedKeepsItsFrame() throws {
        let harness = try ConformanceHarness(SharedMemorySubject())
        defer { harness.shutdown() }
        let holder = FrameHolder(closesOnReceive: true)
        let listener = try harness.listen { _ in holder }
        defer { listener.close() }
        let sent = patternBytes(128, seed: 11)
        let connection = try harness.connect(to: listener)
        defer { connection.close() }
        try connection.send(sent)
        #expect(holder.wait { $0.closed })
        usleep(50_000)
        #expect(holder.heldPayload() == sent)
        holder.releaseFrame()
        #expect(holder.wait(timeout: .seconds(5)) { _ in !holder.connectionIsAlive })
    }

    /// The IO threads stop while a frame is still held: the connection goes with them (its
    /// thread lets its sources go), and the frame keeps the memory it points into (read and
    /// released without a fault).
    @Test func heldFrameOutlivesTheIOThreads() throws {
        let harness = try ConformanceHarness(SharedMemorySubject())
        let holder = FrameHolder()
        let listener = try harness.listen { _ in holder }
        let sent = patternBytes(512, seed: 3)
        let connection = try harness.connect(to: listener)
        try connection.send(sent)
        #expect(holder.wait { $0.held != nil })
        connection.close()
        listener.close()
        harness.shutdown()
        #expect(holder.wait(timeout: .seconds(5)) { _ in !holder.connectionIsAlive })
        #expect(holder.heldPayload() == sent)
        holder.releaseFrame()
    }

    /// A single-sender connection whose handler replies on the IO thread is closed from
    /// another thread mid-stream: the close frame is written on the IO thread, after the
    /// replies, never beside them (the thread sanitizer reports the race otherwise), and the
    /// peer sees replies, then an orderly close.
    @Test func closeFromAnotherThreadDoesNotRaceTheReplies() throws {
        let harness = try ConformanceHarness(SharedMemorySubject())
        defer { harness.shutdown() }
        let server = EchoHandler()
        let accepted = Locked<(any TransportConnection)?>(nil)
        let recorder = CollectingHandler()
        recorder.inspect = { _, connection in accepted.withLock { if $0 == nil { $0 = connection } } }
        let listener = try harness.listen { _ in RelayHandler(first: recorder, then: server) }
        defer { listener.close() }
        let replies = CollectingHandler()
        let connection = try harness.connect(to: listener, handler: replies)
        // At most 64 requests outstanding: the server's replies always fit its ring, so they
        // are all written on its IO thread (EchoHandler's slow path would be a second sender).
        let sender = Thread {
            var index = 0
            while true {
                while index - replies.frameCount >= 64 { usleep(50) }
                do { try connection.send(Sequence64.bytes(UInt64(index)), kind: .request, correlation: UInt64(index + 1)) } catch
                {
                    return
                }
                index += 1
            }
        }
        sender.start()
        #expect(replies.wait { $0.frameCount >= 2000 })
        let serverSide = try #require(accepted.withLock { $0 })
        serverSide.close()
        #expect(replies.wait(timeout: .seconds(10)) { $0.closedConnections.count == 1 })
        let outcome = replies.closedConnections[connection.id] ?? nil
        #expect(outcome == nil, "the peer should see an orderly close, got \(String(describing: outcome))")
        let values = replies.frames.map { Sequence64.value($0.payload).value }
        #expect(values == (0..<UInt64(values.count)).map { $0 }, "replies must arrive whole and in order before the close")
    }
}

/// Keeps the first frame it is given, unreleased, and a weak reference to its connection.
private final class FrameHolder: ConnectionHandler, @unchecked Sendable {
    struct State {
        var held: ReceivedFrameBox?
        /// Where the held frame's payload lies (address, byte count).
        var payload: (address: UInt, count: Int) = (0, 0)
        var closed = false
    }
    private let state = Locked(State())
    private let connection = Locked<WeakConnection>(WeakConnection())
    private let closesOnReceive: Bool

    init(closesOnReceive: Bool = false) { self.closesOnReceive = closesOnReceive }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        let payload = (address: UInt(bitPattern: frame.payloadBaseAddress), count: frame.count)
        let box = ReceivedFrameBox(frame)
        self.connection.withLock { $0.value = connection }
        state.withLock {
            if $0.held == nil {
                $0.held = box
                $0.payload = payload
            }
        }
        if closesOnReceive { connection.close() }
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) { state.withLock { $0.closed = true } }

    var connectionIsAlive: Bool { connection.withLock { $0.value != nil } }

    /// The held frame's bytes, read where the transport handed them up.
    func heldPayload() -> [UInt8] {
        let (address, count) = state.withLock { $0.payload }
        guard let start = UnsafeRawPointer(bitPattern: address) else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    func releaseFrame() {
        let box = state.withLock { state in
            defer { state.held = nil }
            return state.held
        }
        box?.release()
    }

    func wait(timeout: Duration = .seconds(10), until condition: (State) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state.withLock({ condition($0) }) { return true }
            usleep(1000)
        }
        return state.withLock { condition($0) }
    }

    struct WeakConnection { weak var value: (any TransportConnection)? }
}

/// Hands every frame to `first` (which copies it) and then to `then`.
private final class RelayHandler: ConnectionHandler, @unchecked Sendable {
    let first: CollectingHandler
    let then: EchoHandler
    init(first: CollectingHandler, then: EchoHandler) {
        self.first = first
        self.then = then
    }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        first.inspect?(frame, connection)
        then.received(frame, on: connection)
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) { then.closed(connection, error: error) }
}
