import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

extension TCPTests {
    /// TCP has no batches of its own: `reserveBatch` is one frame's reservation.
    @Suite struct SendBatches {
        @Test func aBatchHoldsOneFrameAndDelivers() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let connection = try pair.connect(to: listener, handler: CollectingHandler())
            for sequence in 0..<3 {
                var batch = try connection.reserveBatch(frames: 8, capacity: 16)
                let appended = batch.append(kind: .data, length: 8, correlation: UInt64(sequence))
                let room = try #require(appended)
                room.storeBytes(of: UInt64(sequence + 100).littleEndian, as: UInt64.self)
                let second = batch.append(kind: .data, length: 8)
                #expect(second == nil, "a single reservation took a second frame")
                batch.commit()
            }
            connection.flush()
            #expect(received.wait { $0.frameCount == 3 })
            #expect(received.frames.map(\.header.correlation) == [0, 1, 2])
            let values = received.frames.map { frame in
                frame.payload.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            }
            #expect(values == [100, 101, 102])
        }
    }
}
