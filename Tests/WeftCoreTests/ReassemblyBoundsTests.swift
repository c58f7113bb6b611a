import Testing
import WeftCore

/// Reassembly takes memory as bytes arrive, within a per-connection and a per-process bound,
/// and gives large buffers back once the message is released.
@Suite struct ReassemblyBoundsTests {
    private let chunk = 64 << 10

    /// A first fragment declaring 64 MiB costs about what arrived, not 64 MiB.
    @Test func firstFragmentDoesNotTakeTheDeclaredLength() throws {
        let pool = ReassemblyPool(limit: 1 << 30)
        var assembler = FragmentAssembler(limits: FrameLimits(), reassembly: ReassemblyLimits(pool: pool))
        let bytes = [UInt8](repeating: 7, count: chunk)
        let declared = Int(FrameLimits.protocolMaximum)
        #expect(try append(&assembler, bytes, total: declared, more: true) == nil)
        #expect(assembler.bufferCapacity <= 2 * chunk)
        #expect(pool.bytesInUse == assembler.bufferCapacity)
    }

    /// The buffer grows to the message as it arrives, the message comes out whole, and once
    /// released the buffer goes back to the pool.
    @Test func largeBufferGoesBackOnceReleased() throws {
        let pool = ReassemblyPool(limit: 1 << 30)
        var assembler = FragmentAssembler(limits: FrameLimits(), reassembly: ReassemblyLimits(pool: pool))
        let total = 4 << 20
        var whole: FrameHeader?
        for index in 0..<(total / chunk) {
            let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: chunk)
            whole = try append(&assembler, bytes, total: total, more: index < total / chunk - 1)
        }
        #expect(whole?.payloadLength == UInt32(total))
        #expect(assembler.messageBytes.load(fromByteOffset: total - 1, as: UInt8.self) == UInt8(total / chunk - 1))
        #expect(assembler.bufferCapacity == total)
        assembler.releaseIdleMemory()
        #expect(assembler.bufferCapacity == 0)
        #expect(pool.bytesInUse == 0)
    }

    /// Small buffers stay between messages (no allocation per message).
    @Test func smallBufferStays() throws {
        let pool = ReassemblyPool(limit: 1 << 30)
        var assembler = FragmentAssembler(limits: FrameLimits(), reassembly: ReassemblyLimits(pool: pool))
        let bytes = [UInt8](repeating: 1, count: 1000)
        _ = try append(&assembler, bytes, total: 2000, more: true)
        #expect(try append(&assembler, bytes, total: 2000, more: false) != nil)
        assembler.releaseIdleMemory()
        #expect(assembler.bufferCapacity > 0)
    }

    /// One connection's bound: a message declared over it is refused with `tooLong`.
    @Test func messageOverTheConnectionBoundIsRefused() {
        var assembler = FragmentAssembler(
            limits: FrameLimits(), reassembly: ReassemblyLimits(connectionBytes: 1 << 20, pool: ReassemblyPool(limit: 1 << 30)))
        #expect(throws: FrameError.tooLong(length: 2 << 20, limit: 1 << 20)) {
            try append(&assembler, [1, 2, 3], total: 2 << 20, more: true)
        }
    }

    /// The process's budget: the connection whose fragment would pass it is refused; the one
    /// already holding memory goes on, and what it held is given back at the end.
    @Test func fragmentOverTheProcessBudgetIsRefused() throws {
        let pool = ReassemblyPool(limit: 1 << 20)
        let limits = ReassemblyLimits(pool: pool)
        var first = FragmentAssembler(limits: FrameLimits(), reassembly: limits)
        var second = FragmentAssembler(limits: FrameLimits(), reassembly: limits)
        let bytes = [UInt8](repeating: 3, count: chunk)
        for _ in 0..<12 { _ = try append(&first, bytes, total: 16 * chunk, more: true) }
        do {
            for _ in 0..<12 { _ = try append(&second, bytes, total: 16 * chunk, more: true) }
            Issue.record("two connections reassembled past the process budget")
        } catch {
            guard case .reassemblyOverBudget = error else {
                Issue.record("expected reassemblyOverBudget, got \(error)")
                return
            }
        }
        #expect(pool.bytesInUse <= pool.limit)
        for index in 12..<16 { _ = try append(&first, bytes, total: 16 * chunk, more: index < 15) }
        #expect(first.bufferCapacity == 16 * chunk)
    }

    private func append(
        _ assembler: inout FragmentAssembler, _ bytes: [UInt8], total: Int, more: Bool
    ) throws(FrameError) -> FrameHeader? {
        var header = FrameHeader(kind: .data, flags: more ? [.fragment, .moreFragments] : .fragment)
        header.payloadLength = UInt32(bytes.count)
        header.messageLength = UInt32(total)
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(FrameError) in try assembler.append(header, payload: raw.baseAddress!) }
        }
        return try result.get()
    }
}
