import Testing
import WeftCore

@testable import WeftSharedMemory

/// The consumer over a ring its peer wrote: what a correct producer can never write closes
/// the connection instead of stalling it or keeping the IO thread busy.
@Suite struct RingConsumerTests {
    /// A 1 KiB ring in ordinary memory, zeroed like a fresh mapping.
    final class Ring {
        let memory: RingMemory

        init(size: Int = 1024) {
            memory = RingMemory(
                data: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size: UInt64(size),
                head: .allocate(capacity: 1), sleeping: .allocate(capacity: 1))
            memory.data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            memory.head.initialize(to: 0)
            memory.sleeping.initialize(to: 0)
        }

        deinit {
            memory.data.deallocate()
            memory.head.deallocate()
            memory.sleeping.deallocate()
        }

        func storeTag(_ tag: UInt64, atOffset offset: Int) {
            memory.data.storeBytes(of: tag, toByteOffset: offset, as: UInt64.self)
        }

        /// A data record with `payload` bytes at `offset`, tagged `position`.
        func publish(_ payload: Int, atOffset offset: Int, position: UInt64) {
            FrameHeader(kind: .data, payloadLength: UInt32(payload)).encode(to: memory.data + offset + SharedMemoryLayout.tagSize)
            storeTag(position, atOffset: offset)
        }
    }

    @Test func recordsAndPaddingAtTheEndOfALapAreRead() {
        let ring = Ring()
        var consumer = RingConsumer(ring: ring.memory)
        let first = consumer.head
        ring.publish(5, atOffset: 0, position: first)
        guard case .frame(_, let header, let end) = consumer.peek(limits: FrameLimits()) else {
            Issue.record("the record was not seen")
            return
        }
        #expect(header.payloadLength == 5 && end == first + 64)
        consumer.consume(upTo: end)
        // The producer padded the rest of the lap and went on at the ring's start.
        ring.storeTag(end | SharedMemoryLayout.paddingBit, atOffset: 64)
        ring.publish(0, atOffset: 0, position: first + 1024)
        guard case .frame(_, _, let next) = consumer.peek(limits: FrameLimits()) else {
            Issue.record("the record after the padding was not seen")
            return
        }
        #expect(next == first + 1024 + 64)
    }

    /// Padding at the ring's start would skip a whole lap; a peer writing it lap after lap
    /// would keep `peek` looping. A correct producer never pads there.
    @Test func paddingAtTheStartOfTheRingIsMalformed() {
        let ring = Ring()
        var consumer = RingConsumer(ring: ring.memory)
        let head = consumer.head
        ring.storeTag(head | SharedMemoryLayout.paddingBit, atOffset: 0)
        #expect(consumer.hasWork())
        guard case .malformed = consumer.peek(limits: FrameLimits()) else {
            Issue.record("padding at the ring's start was skipped")
            return
        }
        #expect(consumer.head == head)
    }

    /// The slot at the head holds the head's own position or an older one; a later position
    /// is a corrupt ring, reported at once rather than waited on forever.
    @Test func aTagAheadOfTheHeadIsMalformed() {
        let tags: [UInt64] = [1024 * 2, 1024 * 5 + 64, (1024 * 3) | SharedMemoryLayout.paddingBit]
        for tag in tags {
            let ring = Ring()
            var consumer = RingConsumer(ring: ring.memory)
            ring.storeTag(tag, atOffset: 0)
            #expect(consumer.hasWork(), "tag \(tag)")
            guard case .malformed = consumer.peek(limits: FrameLimits()) else {
                Issue.record("tag \(tag) ahead of the head \(consumer.head) was taken for an empty ring")
                continue
            }
        }
    }

    /// Older tags and zero mean nothing is published yet.
    @Test func olderTagsAreEmpty() {
        let tags: [UInt64] = [0, 64, 1024 - 64, (1024 - 64) | SharedMemoryLayout.paddingBit]
        for tag in tags {
            let ring = Ring()
            var consumer = RingConsumer(ring: ring.memory)
            ring.storeTag(tag, atOffset: 0)
            #expect(!consumer.hasWork(), "tag \(tag)")
            guard case .empty = consumer.peek(limits: FrameLimits()) else {
                Issue.record("tag \(tag) behind the head was not taken for an empty ring")
                continue
            }
        }
    }
}
