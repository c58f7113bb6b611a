// libFuzzer harness for the fragment assembler: a peer chooses every fragment's flags,
// declared message length and payload. Whatever it sends, the assembler must never crash,
// never hold more than its bounds, hand up exactly the bytes sent for a complete message,
// and give every byte back to the process pool.

/// Small bounds so the limit paths run: 4 KiB frames, 64 KiB messages, 32 KiB per
/// connection, 48 KiB for the "process".
private let fragmentLimits = FrameLimits(maxFramePayload: 4096, maxMessage: 65536)
private let connectionBound = 32 << 10
private let poolBound = 48 << 10

/// The input as fragments: 1 control byte (bit 0 kind, bit 1 more fragments, bits 2-3
/// correlation, bit 4 channel), 2 bytes payload length, 4 bytes declared message length,
/// then the payload (cut to what the input holds).
func fuzzFragmentAssembly(_ input: UnsafeRawBufferPointer) {
    let pool = ReassemblyPool(limit: poolBound)
    do {
        var assembler = FragmentAssembler(
            limits: fragmentLimits, reassembly: ReassemblyLimits(connectionBytes: connectionBound, pool: pool))
        var expected: [UInt8] = []
        var offset = 0
        while offset + 7 <= input.count {
            let control = input[offset]
            let length = min(Int(input.loadUnaligned(fromByteOffset: offset + 1, as: UInt16.self)), 4096)
            let declared = input.loadUnaligned(fromByteOffset: offset + 3, as: UInt32.self)
            offset += 7
            let payload = UnsafeRawBufferPointer(rebasing: input[offset..<min(offset + length, input.count)])
            offset += payload.count
            var flags: FrameFlags = .fragment
            if control & 2 != 0 { flags.insert(.moreFragments) }
            let header = FrameHeader(
                kind: control & 1 == 0 ? .data : .request, flags: flags, payloadLength: UInt32(payload.count),
                channel: UInt32(control >> 4 & 1), correlation: UInt64(control >> 2 & 3), messageLength: declared)
            do {
                let complete = try assembler.append(header, payload: payload.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!)
                expected += payload
                if let whole = complete {
                    precondition(Int(whole.payloadLength) == expected.count, "assembled length differs from the bytes sent")
                    precondition(Int(whole.payloadLength) <= connectionBound, "assembled past the connection bound")
                    let assembled = UnsafeRawBufferPointer(start: assembler.messageBytes, count: expected.count)
                    precondition(assembled.elementsEqual(expected), "assembled bytes differ from the bytes sent")
                    precondition(!whole.flags.contains(.fragment), "an assembled message still says fragment")
                    expected = []
                    assembler.releaseIdleMemory()
                }
            } catch {
                // The connection would close here; the half message and its memory go.
                assembler.abandonPartialMessage()
                expected = []
            }
            precondition(pool.bytesInUse <= poolBound, "reassembly took more than the process bound")
            precondition(assembler.bufferCapacity <= connectionBound, "reassembly took more than the connection bound")
        }
        assembler.abandonPartialMessage()
    }
    precondition(pool.bytesInUse == 0, "reassembly memory was not given back")
}
