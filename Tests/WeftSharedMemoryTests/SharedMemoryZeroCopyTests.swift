import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

@Suite(.serialized) struct SharedMemoryZeroCopyTests {
    /// The receive view is the ring itself: its address lies inside the shared mapping,
    /// and the bytes were written there by the sender's reservation.
    @Test func receiveViewPointsIntoTheRing() throws {
        let harness = try ConformanceHarness(SharedMemorySubject())
        defer { harness.shutdown() }
        let received = CollectingHandler()
        let inRing = Locked<[Bool]>([])
        received.inspect = { frame, connection in
            let shm = connection as! SharedMemoryConnection
            inRing.withLock { $0.append(shm.isInSharedMemory(frame.payloadBaseAddress)) }
        }
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        let connection = try harness.connect(to: listener) as! SharedMemoryConnection
        var sendAddresses: [UnsafeMutableRawPointer] = []
        for index in 0..<10 {
            let reservation = try connection.reserve(capacity: 64)
            #expect(connection.isInSharedMemory(reservation.payload.baseAddress!))
            sendAddresses.append(reservation.payload.baseAddress!)
            reservation.payload.storeBytes(of: UInt64(index), as: UInt64.self)
            reservation.commit(kind: .data, length: 8)
        }
        #expect(received.wait { $0.frameCount == 10 })
        #expect(inRing.withLock { $0 } == Array(repeating: true, count: 10))
        #expect(received.frames.map { $0.payload.withUnsafeBytes { $0.load(as: UInt64.self) } } == (0..<10).map { UInt64($0) })
    }
}
