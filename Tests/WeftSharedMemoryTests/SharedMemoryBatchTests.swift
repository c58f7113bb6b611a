import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

#if canImport(Glibc)
    import Glibc
#endif

/// Collects frames from both delivery paths in arrival order, and the size of each batch.
final class BatchCollectingHandler: BatchConnectionHandler, @unchecked Sendable {
    struct Arrival: Equatable {
        var kind: MessageKind
        var correlation: UInt64
        var payload: [UInt8]
        var batched: Bool
    }
    private let state = Locked<(arrivals: [Arrival], batchSizes: [Int])>(([], []))

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        let arrival = Arrival(
            kind: frame.kind, correlation: frame.header.correlation, payload: frame.payloadBytes(), batched: false)
        state.withLock { $0.arrivals.append(arrival) }
    }

    func received(_ batch: borrowing ReceivedBatch, on connection: any TransportConnection) {
        var arrivals: [Arrival] = []
        for index in 0..<batch.count {
            let frame = batch[index]
            arrivals.append(
                Arrival(
                    kind: frame.header.kind, correlation: frame.header.correlation, payload: Array(frame.bytes),
                    batched: true))
        }
        state.withLock {
            $0.arrivals += arrivals
            $0.batchSizes.append(arrivals.count)
        }
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {}

    var arrivals: [Arrival] { state.withLock { $0.arrivals } }
    var batchSizes: [Int] { state.withLock { $0.batchSizes } }

    func wait(for count: Int, timeout: Duration = .seconds(30)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while state.withLock({ $0.arrivals.count }) < count {
            if ContinuousClock.now >= deadline { return false }
            usleep(1000)
        }
        return true
    }
}

/// Batched sending (`reserveBatch`) and batched delivery (`BatchConnectionHandler`) over the
/// shared-memory rings.
@Suite(.serialized) struct SharedMemoryBatchTests {
    private let ringBytes = 64 << 10

    /// Connects a client to a server whose handler takes batches.
    private func connect(
        _ harness: ConformanceHarness, server handler: BatchCollectingHandler
    ) throws -> (any TransportListener, any TransportConnection) {
        let server = SharedMemoryTransport(context: TransportContext(runtime: harness.serverRuntime), ringBytes: ringBytes)
        let client = SharedMemoryTransport(context: TransportContext(runtime: harness.clientRuntime), ringBytes: ringBytes)
        let listener = try server.listen(at: SharedMemorySubject().listenAddress(), options: ConnectionOptions()) { _ in
            handler
        }
        let connection = try client.connect(to: listener.address, options: ConnectionOptions(), handler: CollectingHandler())
        return (listener, connection)
    }

    /// The payload of message `sequence`: its length varies from 0 to 300 bytes (one to six
    /// ring slots), and every byte depends on the sequence.
    private func payload(_ sequence: Int) -> [UInt8] {
        (0..<(sequence * 7) % 301).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ sequence) }
    }

    private func reserveBatch(on connection: any TransportConnection, frames: Int) throws(TransportError) -> SendBatch {
        while true {
            do throws(TransportError) {
                return try connection.reserveBatch(frames: frames, capacity: 300)
            } catch .wouldBlock {
                usleep(100)
            } catch {
                throw error
            }
        }
    }

    /// Thousands of frames of mixed lengths, sent in batches with a request committed on its
    /// own now and then, go many times round a 64 KiB ring: each arrives once, in order, with
    /// its bytes; the data frames come in batches of several, the requests one at a time.
    @Test func batchesArriveInOrderAcrossLaps() throws {
        let harness = try ConformanceHarness(SharedMemorySubject())
        defer { harness.shutdown() }
        let received = BatchCollectingHandler()
        let (listener, connection) = try connect(harness, server: received)
        defer { listener.close() }

        var expected: [BatchCollectingHandler.Arrival] = []
        var sequence = 0
        while sequence < 6000 {
            var batch = try reserveBatch(on: connection, frames: 1 + sequence % 40)
            while let room = batch.append(
                kind: .data, length: payload(sequence).count, correlation: UInt64(sequence))
            {
                let bytes = payload(sequence)
                bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(start: room, count: $0.count).copyMemory(from: $0) }
                expected.append(.init(kind: .data, correlation: UInt64(sequence), payload: bytes, batched: true))
                sequence += 1
            }
            batch.commit()
            if sequence % 7 == 0 {
                try connection.send([1, 2, 3], kind: .request, correlation: UInt64(1_000_000 + sequence))
                expected.append(
                    .init(kind: .request, correlation: UInt64(1_000_000 + sequence), payload: [1, 2, 3], batched: false))
            }
        }
        #expect(received.wait(for: expected.count))
        let arrivals = received.arrivals
        #expect(arrivals.count == expected.count)
        #expect(arrivals == expected)
        #expect((received.batchSizes.max() ?? 0) > 1, "no batch of more than one frame was delivered")
        #expect(!connection.isClosed)
    }

    /// A batch dropped before its commit sends nothing, nor does an empty commit; the send
    /// side is free again after both.
    @Test func aDroppedBatchSendsNothing() throws {
        let harness = try ConformanceHarness(SharedMemorySubject())
        defer { harness.shutdown() }
        let received = BatchCollectingHandler()
        let (listener, connection) = try connect(harness, server: received)
        defer { listener.close() }

        do {
            var dropped = try reserveBatch(on: connection, frames: 4)
            for index in 0..<3 {
                let appended = dropped.append(kind: .data, length: 200, correlation: UInt64(index))
                let room = try #require(appended)
                room.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 200)
            }
        }
        try reserveBatch(on: connection, frames: 2).commit()
        var kept = try reserveBatch(on: connection, frames: 1)
        let appended = kept.append(kind: .data, length: 8, correlation: 42)
        let room = try #require(appended)
        room.storeBytes(of: UInt64(7), as: UInt64.self)
        kept.commit()
        // A later frame starts where the dropped batch's second record was: its payload
        // bytes there were cleared, so they never pose as that frame's tag.
        try connection.send([9], kind: .data, correlation: 43)
        #expect(received.wait(for: 2))
        usleep(100_000)
        #expect(received.arrivals.map(\.correlation) == [42, 43])
        #expect(received.arrivals.first?.payload == [7, 0, 0, 0, 0, 0, 0, 0])
        #expect(!connection.isClosed)
    }
}
