// libFuzzer target for the shared-memory consumer (`RingConsumer`) reading a ring its peer
// wrote. The peer controls every byte of the ring, so the input plays the peer: it fills the
// ring, then writes records, padding, tags and raw bytes between the consumer's steps. The
// consumer must never read outside the ring (it is a plain allocation of exactly the ring's
// size, watched by AddressSanitizer), never hand up a frame that lies outside it, never skip
// more than the rest of a lap in one look, report what a correct producer cannot write as
// malformed, and deliver a correct producer's records exactly.
//
// Built by scripts/fuzz as ONE module with RingConsumer.swift, RingMemory.swift,
// SharedMemoryLayout.swift and the wire sources; CWeftSharedMemory.h is imported as a header
// for its atomic loads and stores. See docs/fuzzing.md.

@_cdecl("LLVMFuzzerTestOneInput")
public func weftFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    fuzzRing(&input)
    return 0
}

/// The protocol's limits and a small pair, so that both `tooLong` and records up to the
/// ring's end run.
private let limitSets = [FrameLimits(), FrameLimits(maxFramePayload: 256, maxMessage: 4096)]

/// A ring and the consumer's control words, each its own allocation of exactly its size.
private final class FuzzRing {
    let memory: RingMemory

    init(size: Int) {
        memory = RingMemory(
            data: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size: UInt64(size),
            head: .allocate(capacity: 1), sleeping: .allocate(capacity: 1))
        memory.head.initialize(to: 0)
        memory.sleeping.initialize(to: 0)
    }

    deinit {
        memory.data.deallocate()
        memory.head.deallocate()
        memory.sleeping.deallocate()
    }

    func slot(_ position: UInt64) -> UnsafeMutableRawPointer { memory.data + Int(position & (memory.size - 1)) }
    func storeTag(_ tag: UInt64, at position: UInt64) { slot(position).storeBytes(of: tag, as: UInt64.self) }
}

/// The records a correct producer published (by position), with the byte their payload repeats.
private struct FairProducer {
    var tail: UInt64
    var published: [UInt64: (length: Int, fill: UInt8)] = [:]

    /// Publishes a data frame of `length` bytes the way `RingProducer` does, or does nothing
    /// when the consumer has not freed enough.
    mutating func publish(length: Int, fill: UInt8, ring: FuzzRing, consumerHead: UInt64) {
        let size = ring.memory.size
        let need = SharedMemoryLayout.recordSize(payload: length)
        guard need <= size / 4 else { return }
        let offset = tail & (size - 1)
        let padding = offset + need > size ? size - offset : 0
        guard tail &+ padding &+ need &- consumerHead <= size else { return }
        if padding > 0 {
            ring.storeTag(tail | SharedMemoryLayout.paddingBit, at: tail)
            tail &+= padding
        }
        let frame = ring.slot(tail) + SharedMemoryLayout.tagSize
        FrameHeader(kind: .data, payloadLength: UInt32(length)).encode(to: frame)
        (frame + FrameLayout.headerSize).initializeMemory(as: UInt8.self, repeating: fill, count: length)
        ring.storeTag(tail, at: tail)
        published[tail] = (length, fill)
        tail &+= need
    }
}

/// Byte 0: ring size (512 bytes to 8 KiB) and limits. Then `ring size` bytes fill the ring
/// (tags, headers, payloads as the peer left them). Then one operation a byte: the consumer
/// looks and consumes, or the peer writes (a fair record, padding or a tag at the head, a
/// header at the head, a word anywhere).
private func fuzzRing(_ input: inout FuzzInput) {
    let control = input.byte()
    let size = 512 << Int(control & 3 + (control >> 2) & 1)
    let limits = limitSets[Int(control >> 3) & 1]
    let ring = FuzzRing(size: size)
    // Bit 4: fresh (zeroed) memory that a correct producer then writes; else the peer's bytes.
    var fair = control & 0x10 != 0
    if fair {
        ring.memory.data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    } else {
        input.copy(to: ring.memory.data, count: size)
    }
    var consumer = RingConsumer(ring: ring.memory)
    var producer = FairProducer(tail: consumer.head)
    // Once the peer writes anything a correct producer would not, delivered bytes are no longer predictable.
    var steps = 0
    while !input.isEmpty && steps < 4096 {
        steps += 1
        let operation = input.byte()
        switch operation % 8 {
        case 0, 1, 2:
            guard consumerStep(&consumer, ring: ring, limits: limits, producer: &producer, fair: fair) else { return }
        case 3:
            let length = min(Int(input.byte()) * 4 + Int(operation >> 3), Int(limits.maxFramePayload))
            producer.publish(length: length, fill: input.byte(), ring: ring, consumerHead: consumer.head)
        case 4:
            fair = false
            ring.storeTag(consumer.head | SharedMemoryLayout.paddingBit, at: consumer.head)
        case 5:
            fair = false
            let header = ring.slot(consumer.head) + SharedMemoryLayout.tagSize
            input.copy(to: header, count: FrameLayout.headerSize)
            ring.storeTag(consumer.head, at: consumer.head)
        case 6:
            fair = false
            // A tag some laps (or slots) away from the head, padding bit chosen too.
            let tag = consumer.head &+ UInt64(input.byte() >> 1) &* ring.memory.size &- UInt64(input.byte() >> 6) * 64
            ring.storeTag(operation & 0x80 != 0 ? tag | SharedMemoryLayout.paddingBit : tag, at: consumer.head)
        default:
            fair = false
            let offset = (Int(input.byte()) | Int(input.byte()) << 8) & (size - 1) & ~7
            ring.memory.data.storeBytes(of: input.word(), toByteOffset: offset, as: UInt64.self)
        }
    }
}

/// One look at the head, as the connection's poll takes it. False once the ring was found
/// malformed (the connection would close).
private func consumerStep(
    _ consumer: inout RingConsumer, ring: FuzzRing, limits: FrameLimits, producer: inout FairProducer, fair: Bool
) -> Bool {
    let size = ring.memory.size
    let before = consumer.head
    let waiting = consumer.hasWork()
    let next = consumer.peek(limits: limits)
    precondition(consumer.head &- before < size, "one look skipped a whole lap or more")
    switch next {
    case .empty:
        // Padding moves the head to the next lap, where nothing may be waiting yet.
        precondition(!waiting || consumer.head != before, "hasWork saw something at the head that peek called empty")
        precondition(!fair || producer.tail == consumer.head, "a fair record was not seen")
        return true
    case .malformed:
        precondition(waiting, "peek found a malformed ring that hasWork would have slept on")
        precondition(!fair, "a fair producer's ring was called malformed")
        return false
    case .frame(let frame, let header, let end):
        precondition(waiting, "hasWork would have slept on a published record")
        let start = UnsafeRawPointer(ring.memory.data)
        let record = frame - SharedMemoryLayout.tagSize
        precondition(record >= start && record - start == Int(consumer.head & (size - 1)), "frame is not at the head")
        let length = Int(header.payloadLength)
        precondition(
            frame + FrameLayout.headerSize + length <= start + Int(size), "a frame was handed up past the ring's end")
        precondition(end &- consumer.head == SharedMemoryLayout.recordSize(payload: length), "the record's end is off")
        // Read every payload byte, as a handler would: AddressSanitizer checks each one.
        var sum: UInt8 = 0
        for index in 0..<length { sum &+= frame.load(fromByteOffset: FrameLayout.headerSize + index, as: UInt8.self) }
        if fair {
            guard let expected = producer.published[consumer.head] else { preconditionFailure("a record nobody published") }
            precondition(header.kind == .data && length == expected.length, "a fair record came back changed")
            precondition(sum == UInt8(truncatingIfNeeded: length &* Int(expected.fill)), "a fair record's payload changed")
            producer.published[consumer.head] = nil
        }
        consumer.consume(upTo: end)
        consumer.publishHead()
        precondition(ring.memory.head.pointee == consumer.head, "the head was not published")
        return true
    }
}
