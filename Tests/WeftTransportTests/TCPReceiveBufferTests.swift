import Testing
import WeftCore

@testable import WeftTCP

/// The TCP stream parser without a socket: the frames that come out of reads of any size,
/// and the buffer's growth and shrinking.
@Suite struct TCPReceiveBufferTests {
    /// A frame as TCP sends it: header, payload, zero padding to a multiple of 8.
    func wire(_ kind: MessageKind, _ payload: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: FrameHeader.paddedFrameSize(payload: payload.count))
        bytes.withUnsafeMutableBytes { FrameHeader(kind: kind, payloadLength: UInt32(payload.count)).encode(to: $0.baseAddress!) }
        bytes.replaceSubrange(FrameLayout.headerSize..<FrameLayout.headerSize + payload.count, with: payload)
        return bytes
    }

    /// Reads `stream` `readSize` bytes at a time, delivering as the connection does.
    func receive(
        _ stream: [UInt8], readSize: Int, into buffer: inout TCPReceiveBuffer, capacities: inout [Int]
    ) -> (payloads: [[UInt8]], error: FrameError?) {
        var payloads: [[UInt8]] = []
        var offset = 0
        while true {
            var need = 0
            while need == 0 {
                switch buffer.nextFrame(limits: FrameLimits()) {
                case .frame(let header, let payload):
                    #expect(Int(bitPattern: payload) % 8 == 0)
                    payloads.append(Array(UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength))))
                case .needs(let bytes): need = bytes
                case .malformed(let error): return (payloads, error)
                }
            }
            guard offset < stream.count else { return (payloads, buffer.truncation(limits: FrameLimits())) }
            buffer.makeRoom(for: need)
            capacities.append(buffer.capacity)
            let count = min(readSize, buffer.freeBytes, stream.count - offset)
            stream.withUnsafeBytes { buffer.freeSpace.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            buffer.didReceive(count)
            offset += count
        }
    }

    @Test(arguments: [1, 3, 40, 4096]) func framesComeOutWholeWhateverTheReads(readSize: Int) {
        var buffer = TCPReceiveBuffer(capacity: 4096, memoryNode: nil)
        defer { buffer.deallocate() }
        let payloads: [[UInt8]] = [[1, 2, 3], [], Array(0..<200), [9]]
        var capacities: [Int] = []
        let stream = payloads.flatMap { wire(.data, $0) }
        let result = receive(stream, readSize: readSize, into: &buffer, capacities: &capacities)
        #expect(result.payloads == payloads)
        #expect(result.error == nil)
        #expect(capacities.allSatisfy { $0 == 4096 })
    }

    /// A frame larger than the buffer grows it as its bytes arrive, doubling at most, up to
    /// the frame's size; once everything is handled and the socket drained, it shrinks back.
    @Test func aLargeFrameGrowsTheBufferAsItArrivesAndItShrinksBack() {
        var buffer = TCPReceiveBuffer(capacity: 4096, memoryNode: nil)
        defer { buffer.deallocate() }
        let large = [UInt8](repeating: 7, count: 40_000)
        var capacities: [Int] = []
        let result = receive(wire(.data, large), readSize: 4096, into: &buffer, capacities: &capacities)
        #expect(result.payloads == [large])
        #expect(zip(capacities, capacities.dropFirst()).allSatisfy { $1 == $0 || $1 <= 2 * $0 })
        #expect(capacities.last == FrameHeader.paddedFrameSize(payload: large.count))
        buffer.shrinkIfGrown()
        #expect(buffer.capacity == 4096)
    }

    @Test func aBadHeaderEndsDelivery() {
        var buffer = TCPReceiveBuffer(capacity: 4096, memoryNode: nil)
        defer { buffer.deallocate() }
        var stream = wire(.data, [1]) + wire(.data, [2])
        stream[40] = 0
        var capacities: [Int] = []
        let result = receive(stream, readSize: 5, into: &buffer, capacities: &capacities)
        #expect(result.payloads == [[1]])
        guard case .badMagic = result.error else {
            Issue.record("got \(String(describing: result.error))")
            return
        }
    }

    @Test func theStreamEndingInsideAFrameIsTruncated() {
        var buffer = TCPReceiveBuffer(capacity: 4096, memoryNode: nil)
        defer { buffer.deallocate() }
        var capacities: [Int] = []
        let result = receive(Array(wire(.data, Array(0..<20)).prefix(45)), readSize: 16, into: &buffer, capacities: &capacities)
        #expect(result.payloads.isEmpty)
        #expect(result.error == .truncated(have: 45, need: 56))
    }
}
