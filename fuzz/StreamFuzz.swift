// libFuzzer target for the TCP stream parser (`TCPReceiveBuffer`): the input is a byte
// stream the peer sends, cut into reads of lengths the peer chooses. The buffer is driven
// the way `TCPConnection.receive` drives it (deliver what is whole, make room, read, shrink
// when the socket is drained, check for truncation at the end), and every frame it hands up
// must equal what a plain decoding of the whole stream gives, a malformed header must end
// delivery with the same error at the same frame, and the buffer must stay within its
// bounds: never past the largest frame the stream asked for, grown only while full,
// back to its first size once drained. Reads past the buffer trip AddressSanitizer
// (fuzz/NodeLocalMemoryStandIn.swift allocates exact sizes).
//
// Built by scripts/fuzz as ONE module with TCPReceiveBuffer.swift and the wire sources.
// See docs/fuzzing.md.

@_cdecl("LLVMFuzzerTestOneInput")
public func weftFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    fuzzStream(&input)
    precondition(NodeLocalMemory.live.isEmpty, "the receive buffer leaked a block")
    return 0
}

/// First sizes of the buffer: smaller than any frame, a few frames, the configured minimum.
private let capacities = [64, 256, 4096, 1 << 16]
/// The protocol's limits and a small pair, so that `tooLong` runs too.
private let limitSets = [FrameLimits(), FrameLimits(maxFramePayload: 4096, maxMessage: 65536)]
/// What the connection decodes handshake frames with.
private let handshakeLimits = FrameLimits(maxFramePayload: 512, maxMessage: 512)

/// What the peer's stream holds, decoded frame after frame from one contiguous copy.
private struct Reference {
    enum Item {
        case frame(FrameHeader, offset: Int)
        /// A header that does not decode: where delivery must end.
        case malformed(FrameError, offset: Int)
    }
    var items: [Item] = []
    /// Where the last whole frame ends; bytes after it are a partial frame.
    var end = 0

    init(_ stream: [UInt8], limits: (Int) -> FrameLimits) {
        stream.withUnsafeBytes { bytes in
            while bytes.count - end >= FrameLayout.headerSize {
                switch FrameHeader.decode(from: bytes.baseAddress! + end, limits: limits(items.count)) {
                case .failure(let error):
                    items.append(.malformed(error, offset: end))
                    return
                case .success(let header):
                    let size = FrameHeader.paddedFrameSize(payload: Int(header.payloadLength))
                    guard bytes.count - end >= size else { return }
                    items.append(.frame(header, offset: end))
                    end += size
                }
            }
        }
    }
}

/// The peer's side of the socket: chunks the peer wrote, read as a socket gives them.
private struct PeerSocket {
    var chunks: [[UInt8]]
    var chunk = 0
    var offset = 0

    enum Read {
        case bytes(Int)
        case wouldBlock
        case endOfStream
    }

    /// Up to `count` bytes of the current chunk; `wouldBlock` between chunks, as a drained socket.
    mutating func read(into destination: UnsafeMutableRawPointer, count: Int) -> Read {
        guard chunk < chunks.count else { return .endOfStream }
        let available = chunks[chunk].count - offset
        guard available > 0 else {
            chunk += 1
            offset = 0
            return .wouldBlock
        }
        let taken = min(available, count)
        chunks[chunk].withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + offset, byteCount: taken) }
        offset += taken
        return .bytes(taken)
    }
}

/// Byte 0: first capacity (bits 0–1), limits (bit 2), how many frames are handshake frames
/// (bits 3–4). Then chunks: a length byte and that many bytes of the stream.
private func fuzzStream(_ input: inout FuzzInput) {
    let control = input.byte()
    let capacity = capacities[Int(control & 3)]
    let established = limitSets[Int(control >> 2) & 1]
    let handshakeFrames = Int(control >> 3) & 3
    let limitsFor = { (index: Int) in index < handshakeFrames ? handshakeLimits : established }

    var chunks: [[UInt8]] = []
    while !input.isEmpty {
        let length = Int(input.byte())
        chunks.append(Array(input.take(length)))
    }
    let stream = chunks.flatMap { $0 }
    let reference = Reference(stream, limits: limitsFor)
    var socket = PeerSocket(chunks: chunks)
    var buffer = TCPReceiveBuffer(capacity: capacity, memoryNode: nil)
    defer { buffer.deallocate() }

    var delivered = 0
    var received = 0
    var largestNeed = capacity
    while true {
        // Deliver every whole frame, as deliverBuffered does.
        var need = 0
        while need == 0 {
            checkBounds(buffer)
            let limits = limitsFor(delivered)
            switch buffer.nextFrame(limits: limits) {
            case .frame(let header, let payload):
                guard delivered < reference.items.count, case .frame(let expected, let offset) = reference.items[delivered] else {
                    preconditionFailure("handed up a frame the stream does not hold whole")
                }
                checkFrame(header, payload: payload, buffer: buffer, expected: expected, bytes: stream, at: offset)
                delivered += 1
            case .malformed(let error):
                guard delivered < reference.items.count, case .malformed(let expected, _) = reference.items[delivered] else {
                    preconditionFailure("reported \(error) where the stream holds a valid header")
                }
                precondition(error == expected, "reported \(error), the stream's header says \(expected)")
                return
            case .needs(let bytes):
                checkNeed(bytes, buffer: buffer, reference: reference, delivered: delivered, received: received)
                need = bytes
            }
        }
        largestNeed = max(largestNeed, need)
        let before = (capacity: buffer.capacity, pending: buffer.filled - buffer.parsed)
        buffer.makeRoom(for: need)
        checkBounds(buffer)
        precondition(buffer.filled - buffer.parsed == before.pending, "making room lost or invented bytes")
        precondition(buffer.freeBytes > 0, "no room to read into: the read would look like the end of the stream")
        if buffer.capacity != before.capacity {
            precondition(
                before.pending == before.capacity && buffer.capacity <= 2 * before.capacity && buffer.capacity <= need,
                "the buffer grew before it was full, or past twice its size or the frame")
        }
        precondition(buffer.capacity <= largestNeed, "the buffer is larger than any frame asked for")
        switch socket.read(into: buffer.freeSpace, count: buffer.freeBytes) {
        case .bytes(let count):
            buffer.didReceive(count)
            received += count
        case .wouldBlock:
            buffer.shrinkIfGrown()
            if buffer.isDrained { precondition(buffer.capacity == capacity, "a drained buffer kept its growth") }
        case .endOfStream:
            precondition(received == stream.count, "the stream ended early")
            precondition(delivered == reference.items.count, "whole frames were left undelivered")
            let expected: FrameError? =
                reference.end == stream.count
                ? nil : FrameHeaderTruncation.of(stream, from: reference.end, limits: limitsFor(delivered))
            precondition(buffer.truncation(limits: limitsFor(delivered)) == expected, "the end of the stream was misjudged")
            return
        }
    }
}

/// The counters stay ordered, and every frame starts 8-byte aligned.
private func checkBounds(_ buffer: TCPReceiveBuffer) {
    precondition(
        0 <= buffer.parsed && buffer.parsed <= buffer.filled && buffer.filled <= buffer.capacity, "counters out of order")
    precondition(buffer.parsed % 8 == 0 && Int(bitPattern: buffer.base) % 8 == 0, "a frame would start unaligned")
}

/// The frame equals the stream's at `offset`, and lies within the bytes read.
private func checkFrame(
    _ header: FrameHeader, payload: UnsafeMutableRawPointer, buffer: TCPReceiveBuffer, expected: FrameHeader,
    bytes: [UInt8], at offset: Int
) {
    precondition(header == expected, "frame header differs from the stream's")
    let length = Int(header.payloadLength)
    let start = payload - FrameLayout.headerSize
    precondition(start >= buffer.base && payload + length <= buffer.base + buffer.filled, "frame outside the bytes read")
    precondition(start - buffer.base + FrameHeader.paddedFrameSize(payload: length) == buffer.parsed, "parsed is off")
    // Compare every payload byte: AddressSanitizer checks each read.
    for index in 0..<length where payload.load(fromByteOffset: index, as: UInt8.self) != bytes[offset + 32 + index] {
        preconditionFailure("payload byte \(index) differs from the stream's")
    }
}

/// The buffer asks for more only when the stream so far holds no further whole frame, and
/// for as much as that frame needs.
private func checkNeed(_ need: Int, buffer: TCPReceiveBuffer, reference: Reference, delivered: Int, received: Int) {
    let start = received - (buffer.filled - buffer.parsed)
    if delivered < reference.items.count {
        switch reference.items[delivered] {
        case .frame(let header, let offset):
            precondition(offset == start, "the buffer lost its place in the stream")
            let size = FrameHeader.paddedFrameSize(payload: Int(header.payloadLength))
            precondition(offset + size > received, "asked for more while a whole frame was buffered")
            precondition(need == (received - offset >= 32 ? size : 32), "asked for \(need) bytes, the frame needs \(size)")
        case .malformed(_, let offset):
            precondition(offset == start && received - offset < 32, "a malformed header went unnoticed")
        }
    } else {
        precondition(start == reference.end, "the buffer lost its place in the stream")
    }
}

/// What the connection reports when the stream ends inside a frame, computed from the stream.
private enum FrameHeaderTruncation {
    static func of(_ stream: [UInt8], from offset: Int, limits: FrameLimits) -> FrameError {
        let have = stream.count - offset
        var need = FrameLayout.headerSize
        if have >= FrameLayout.headerSize {
            stream.withUnsafeBytes { bytes in
                if case .success(let header) = FrameHeader.decode(from: bytes.baseAddress! + offset, limits: limits) {
                    need = FrameHeader.paddedFrameSize(payload: Int(header.payloadLength))
                }
            }
        }
        return .truncated(have: have, need: need)
    }
}
