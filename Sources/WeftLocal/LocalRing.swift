import Synchronization
import WeftCore

/// One direction of a local connection: a single-producer/single-consumer byte ring in
/// heap memory this module owns.
///
/// A record is an 8-byte length word followed by the frame (header and payload), padded to
/// 8 bytes; records never wrap. A record that would cross the end is preceded by a padding
/// record (length word with `paddingBit`) that runs to the end of the ring.
///
/// ```
/// +----------------------+---------------------------+------------------+
/// | record length (u64)  | frame header (32 bytes)   | payload, pad to 8 |
/// +----------------------+---------------------------+------------------+
/// ```
/// The producer publishes by storing `tail` (sequentially consistent); the consumer
/// returns space by storing `head`. A consumer about to sleep sets `consumerSleeping` and
/// re-checks `tail`; the producer checks the flag after publishing (Dekker), and wakes the
/// consumer's IO thread only then.
final class LocalRing: @unchecked Sendable {
    static let lengthWordSize = 8
    static let paddingBit: UInt64 = 1 << 63

    let size: Int
    let mask: UInt64
    let data: UnsafeMutableRawPointer
    let tail = Atomic<UInt64>(0)
    let head = Atomic<UInt64>(0)
    let consumerSleeping = Atomic<Bool>(false)
    /// The consumer's IO thread, woken when it sleeps and a record arrives.
    let consumerThread: IOThread

    // Producer-only (guarded by the connection's send side).
    private var reservedTail: UInt64 = 0

    init(size: Int, consumerThread: IOThread) {
        precondition(size >= 4096 && size & (size - 1) == 0, "ring size must be a power of two of at least 4 KiB")
        self.size = size
        mask = UInt64(size - 1)
        data = .allocate(byteCount: size, alignment: 64)
        self.consumerThread = consumerThread
    }

    deinit { data.deallocate() }

    /// Largest payload one record may carry: a quarter of the ring keeps several in flight.
    var maxPayload: Int { size / 4 - Self.lengthWordSize - FrameLayout.headerSize }

    static func recordSize(payload: Int) -> Int { lengthWordSize + FrameHeader.paddedFrameSize(payload: payload) }

    /// Space for a frame of up to `capacity` payload bytes (its address and position), or nil when full.
    func reserve(capacity: Int) -> (frame: UnsafeMutableRawPointer, position: UInt64)? {
        let need = UInt64(Self.recordSize(payload: capacity))
        var position = reservedTail
        let offset = position & mask
        let padding = offset + need > UInt64(size) ? UInt64(size) - offset : 0
        let head = head.load(ordering: .acquiring)
        guard position &+ padding &+ need &- head <= UInt64(size) else { return nil }
        if padding > 0 {
            (data + Int(offset)).storeBytes(of: padding | Self.paddingBit, as: UInt64.self)
            position &+= padding
            reservedTail = position
            publishTail(position)
        }
        return (data + Int(position & mask) + Self.lengthWordSize, position)
    }

    /// Publishes the record at `position` carrying `payloadLength` bytes.
    func publish(position: UInt64, payloadLength: Int) {
        let length = UInt64(Self.recordSize(payload: payloadLength))
        (data + Int(position & mask)).storeBytes(of: length, as: UInt64.self)
        reservedTail = position &+ length
        publishTail(reservedTail)
    }

    private func publishTail(_ value: UInt64) {
        tail.store(value, ordering: .sequentiallyConsistent)
        if consumerSleeping.load(ordering: .sequentiallyConsistent),
            consumerSleeping.exchange(false, ordering: .sequentiallyConsistent)
        {
            consumerThread.execute {}
        }
    }
}
