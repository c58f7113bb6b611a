import WeftCore

/// The memfd that two processes share: one control page, then one ring per direction.
///
/// Control page (4096 bytes; counters two cache lines apart so neither side's writes
/// disturb the other's lines, adjacent-line prefetch included):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic "WSHM" (0x4D485357) |
/// | 4 | 4 | layout version (2) |
/// | 8 | 8 | ring bytes (power of two) |
/// | 16 | 4 | connector's progress mode (0 spin, 1 adaptive, 2 sleep) |
/// | 20 | 4 | acceptor's progress mode |
/// | 24 | 4 | connector's wake-up protocol as a consumer (0 producer fences, 1 consumer barrier) |
/// | 28 | 4 | acceptor's wake-up protocol |
/// | 128 | 8 | ring 0 (connector → acceptor): consumer's head position (starts at ring bytes) |
/// | 256 | 4 | ring 0: consumer is asleep (1) and wants an eventfd wake-up |
/// | 384 | 8 | ring 1 (acceptor → connector): consumer's head position |
/// | 512 | 4 | ring 1: consumer is asleep |
/// | 640 | 8 | connector's heartbeat count: its IO thread adds one every `heartbeat-interval-ms` |
/// | 768 | 8 | acceptor's heartbeat count |
///
/// The heartbeat counts replace `heartbeat` frames here: a peer whose count stops moving for
/// `idle-timeout-ms` is lost (hung or stopped; death itself is seen at once by its pidfd).
///
/// Ring 0 starts at 4096, ring 1 at 4096 + ring bytes. A record in a ring:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-------------------------------------------------------------+
/// |P|        tag: the record's absolute position in the stream     |  0
/// | |                       (64 bits)                             |  4
/// +-+-------------------------------------------------------------+
/// |                 frame: 32-byte header, then payload           |  8
/// ~                                                               ~
/// +---------------------------------------------------------------+
/// ```
/// Records start on 64-byte boundaries, so a frame with up to 24 payload bytes is one
/// cache line. The producer writes the frame, then stores the tag with release ordering;
/// the consumer spins on the tag at its head with acquire loads. A tag equal to the
/// expected position marks a valid record: a tag left from an earlier lap holds an older
/// position and never matches. Where a record covered several 64-byte slots, the consumer
/// clears the first word of each inner slot before it frees the space, so payload bytes
/// can never pose as a tag later; a one-slot record needs no store at all. P (bit 63)
/// marks padding: the rest of the ring is skipped and the stream continues at its start.
enum SharedMemoryLayout {
    static let magic: UInt32 = 0x4D48_5357
    static let version: UInt32 = 2
    static let controlPageSize = 4096
    static let ringBytesOffset = 8
    static let connectorModeOffset = 16
    static let acceptorModeOffset = 20
    static let connectorWakeProtocolOffset = 24
    static let acceptorWakeProtocolOffset = 28
    static let headOffsets = [128, 384]
    static let sleepingOffsets = [256, 512]
    /// By role: 0 the connector's heartbeat count, 1 the acceptor's (the ring each side sends on).
    static let heartbeatOffsets = [640, 768]

    static let recordAlignment: UInt64 = 64
    static let tagSize = 8
    static let paddingBit: UInt64 = 1 << 63

    /// Streams start one lap in, so that no valid tag is 0, the value of fresh memory.
    static func firstPosition(ringBytes: UInt64) -> UInt64 { ringBytes }

    static func regionSize(ringBytes: Int) -> Int { controlPageSize + 2 * ringBytes }
    static func ringOffset(_ ring: Int, ringBytes: Int) -> Int { controlPageSize + ring * ringBytes }

    /// Bytes a record with `payload` bytes occupies in the ring.
    @inline(__always)
    static func recordSize(payload: Int) -> UInt64 {
        (UInt64(tagSize + FrameLayout.headerSize + payload) + recordAlignment - 1) & ~(recordAlignment - 1)
    }
}

/// Progress modes as stored in the control page.
enum ProgressModeCode: UInt32 {
    case spin = 0
    case adaptive = 1
    case sleep = 2
}

extension ProgressModeCode {
    init(_ mode: ProgressMode) {
        switch mode {
        case .spin: self = .spin
        case .adaptive: self = .adaptive
        case .sleep: self = .sleep
        }
    }
}
