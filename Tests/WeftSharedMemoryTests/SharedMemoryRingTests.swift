import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

@Suite(.serialized) struct SharedMemoryRingTests {
    /// A large record whose payload holds, at every inner 64-byte slot, exactly the tag a
    /// record starting there one lap later would carry. Single-slot messages then go round
    /// the ring one at a time, so the consumer waits on each of those slots: it must never
    /// take the old payload bytes for a published record.
    @Test func oldPayloadNeverPosesAsATag() throws {
        let ringBytes = 64 << 10
        let harness = try ConformanceHarness(SharedMemorySubject())
        defer { harness.shutdown() }
        let server = SharedMemoryTransport(context: TransportContext(runtime: harness.serverRuntime), ringBytes: ringBytes)
        let client = SharedMemoryTransport(context: TransportContext(runtime: harness.clientRuntime), ringBytes: ringBytes)
        let listener = try server.listen(at: SharedMemorySubject().listenAddress(), options: ConnectionOptions()) { _ in
            EchoHandler()
        }
        defer { listener.close() }
        let replies = CollectingHandler()
        let connection = try client.connect(to: listener.address, options: ConnectionOptions(), handler: replies)

        let first = SharedMemoryLayout.firstPosition(ringBytes: UInt64(ringBytes))
        let payloadStart = UInt64(SharedMemoryLayout.tagSize + FrameLayout.headerSize)
        var bait = [UInt8](repeating: 0xEE, count: 4096)
        var slot: UInt64 = 64
        while slot + 8 <= payloadStart + UInt64(bait.count) {
            let nextLapTag = first + slot + UInt64(ringBytes)
            let offset = Int(slot - payloadStart)
            bait.withUnsafeMutableBytes { $0.storeBytes(of: nextLapTag, toByteOffset: offset, as: UInt64.self) }
            slot += 64
        }
        try connection.send(bait, kind: .request, correlation: 1)
        #expect(replies.wait { $0.frameCount == 1 })

        let lap = ringBytes / 64 + 16
        for index in 0..<lap {
            try connection.send(
                Sequence64.bytes(UInt64(index)).prefix(8).map { $0 }, kind: .request, correlation: UInt64(index + 2))
            guard replies.wait(timeout: .seconds(10), until: { $0.frameCount == index + 2 }) else {
                Issue.record("echo \(index) did not come back")
                return
            }
        }
        let echoes = replies.frames.dropFirst()
        #expect(echoes.map { $0.header.correlation } == (0..<lap).map { UInt64($0 + 2) })
        #expect(
            echoes.map { Sequence64.value($0.payload + [UInt8](repeating: 0, count: 8)).value } == (0..<lap).map { UInt64($0) })
        #expect(!connection.isClosed)
    }
}
