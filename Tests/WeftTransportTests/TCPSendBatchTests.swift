import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

extension TCPTests {
    /// TCP batches: several frames reserved at once, back to back in the send ring, committed
    /// (and so written) together.
    @Suite struct SendBatches {
        @Test func aBatchCarriesSeveralFramesInOrder() throws {
            let (pair, listener, connection, received) = try connected()
            defer {
                listener.close()
                pair.shutdown()
            }
            let lengths = [0, 1, 7, 8, 9, 15, 16, 24]
            var batch = try connection.reserveBatch(frames: lengths.count, capacity: 24)
            for (index, length) in lengths.enumerated() {
                let appended = batch.append(kind: .data, length: length, correlation: UInt64(index))
                let payload = try #require(appended, "the batch had no room for frame \(index)")
                for offset in 0..<length {
                    payload.storeBytes(of: UInt8(index * 16 + offset), toByteOffset: offset, as: UInt8.self)
                }
            }
            #expect(batch.count == lengths.count)
            batch.commit()
            connection.flush()
            #expect(received.wait { $0.frameCount == lengths.count })
            #expect(received.frames.map(\.header.correlation) == (0..<UInt64(lengths.count)).map { $0 })
            for (index, frame) in received.frames.enumerated() {
                let bytes = frame.payload.withUnsafeBytes { Array($0) }
                #expect(bytes == (0..<lengths[index]).map { UInt8(index * 16 + $0) }, "frame \(index)")
            }
        }

        /// A batch holds as many frames of its capacity as it was reserved for, and no more.
        @Test func aBatchHoldsWhatItWasReservedFor() throws {
            let (pair, listener, connection, received) = try connected()
            defer {
                listener.close()
                pair.shutdown()
            }
            var batch = try connection.reserveBatch(frames: 5, capacity: 20)
            for index in 0..<5 {
                let appended = batch.append(kind: .data, length: 20, correlation: UInt64(index))
                #expect(appended != nil, "frame \(index) found no room")
            }
            let extra = batch.append(kind: .data, length: 20)
            #expect(extra == nil, "a batch reserved for 5 frames took a sixth")
            batch.commit()
            connection.flush()
            #expect(received.wait { $0.frameCount == 5 })
        }

        /// The ring reuses its first bytes once it is empty, so a batch lands on an older
        /// frame's payload: the padding after each short frame must be zero again.
        @Test func paddingIsZeroedOverOlderBytes() throws {
            let (pair, listener, connection, received) = try connected()
            defer {
                listener.close()
                pair.shutdown()
            }
            try sendAndDrain(connection, frames: 4, length: 16, fill: 0xAB, seenBy: received)
            #expect(received.wait { $0.frameCount == 4 })
            let start = try sendAndDrain(connection, frames: 4, length: 1, fill: 0x01, seenBy: received)
            #expect(received.wait { $0.frameCount == 8 })
            let frameSize = FrameHeader.paddedFrameSize(payload: 1)
            for frame in 0..<4 {
                let base = connection.sendBase + Int(start & connection.sendMask) + frame * frameSize
                let padding = (FrameLayout.headerSize + 1..<frameSize).map { base.load(fromByteOffset: $0, as: UInt8.self) }
                #expect(padding.allSatisfy { $0 == 0 }, "frame \(frame)'s padding: \(padding)")
            }
        }

        /// A client connection and what its server receives.
        private func connected() throws -> (TCPPair, any TransportListener, TCPConnection, CollectingHandler) {
            let pair = try TCPPair()
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            return (pair, listener, try pair.connect(to: listener, handler: CollectingHandler()), received)
        }

        /// Sends one batch of `frames` frames of `length` bytes filled with `fill`, and waits until
        /// the ring has written them all; returns the batch's ring position.
        @discardableResult
        private func sendAndDrain(
            _ connection: TCPConnection, frames: Int, length: Int, fill: UInt8, seenBy handler: CollectingHandler
        ) throws -> UInt64 {
            var batch = try connection.reserveBatch(frames: frames, capacity: length)
            for _ in 0..<frames {
                let appended = batch.append(kind: .data, length: length)
                let payload = try #require(appended)
                payload.initializeMemory(as: UInt8.self, repeating: fill, count: length)
            }
            batch.commit()
            connection.flush()
            let end = connection.committed.load(ordering: .acquiring)
            let drained = handler.wait { _ in connection.sent.load(ordering: .acquiring) == end }
            #expect(drained, "the ring did not drain")
            return end &- UInt64(frames * FrameHeader.paddedFrameSize(payload: length))
        }
    }
}
