/// The 32-byte header that starts every frame on every transport.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +---------------------------------------------------------------+
/// |                    magic "WEFT" (0x54464557)                  |  0
/// +---------------+---------------+-------------------------------+
/// |    version    |     kind      |             flags             |  4
/// +---------------+---------------+-------------------------------+
/// |                        payload length                         |  8
/// +---------------------------------------------------------------+
/// |                            channel                            | 12
/// +---------------------------------------------------------------+
/// |                    correlation id (64 bits)                   | 16
/// |                                                               | 20
/// +---------------------------------------------------------------+
/// |                 message length (fragments only)               | 24
/// +---------------------------------------------------------------+
/// |                       reserved (zero)                         | 28
/// +---------------------------------------------------------------+
/// ```
/// All fields are little-endian. The payload follows at offset 32, so a payload
/// starts 8-byte aligned wherever the header is. docs/protocol.md is the reference.
public struct FrameHeader: Equatable, Sendable {
    public var kind: MessageKind
    public var flags: FrameFlags
    public var payloadLength: UInt32
    public var channel: UInt32
    public var correlation: UInt64
    /// The whole message's length when this frame is one fragment of it; 0 otherwise.
    public var messageLength: UInt32

    @inlinable
    public init(
        kind: MessageKind, flags: FrameFlags = [], payloadLength: UInt32 = 0, channel: UInt32 = 0,
        correlation: UInt64 = 0, messageLength: UInt32 = 0
    ) {
        self.kind = kind
        self.flags = flags
        self.payloadLength = payloadLength
        self.channel = channel
        self.correlation = correlation
        self.messageLength = messageLength
    }
}

/// Byte offsets of the header fields, pinned by tests and docs/protocol.md.
/// (Inlinable constants: other modules' hot paths fold them instead of calling accessors.)
public enum FrameLayout {
    @inlinable public static var magicOffset: Int { 0 }
    @inlinable public static var versionOffset: Int { 4 }
    @inlinable public static var kindOffset: Int { 5 }
    @inlinable public static var flagsOffset: Int { 6 }
    @inlinable public static var payloadLengthOffset: Int { 8 }
    @inlinable public static var channelOffset: Int { 12 }
    @inlinable public static var correlationOffset: Int { 16 }
    @inlinable public static var messageLengthOffset: Int { 24 }
    @inlinable public static var reservedOffset: Int { 28 }
    @inlinable public static var headerSize: Int { 32 }
    /// Frames (and the payload after the header) start on this boundary.
    @inlinable public static var alignment: Int { 8 }

    /// "WEFT" read as a little-endian 32-bit integer.
    @inlinable public static var magic: UInt32 { 0x5446_4557 }
    @inlinable public static var version: UInt8 { 1 }
}

/// Flag bits in the header's 16-bit flags field.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// More fragments of this message follow.
    @inlinable public static var moreFragments: FrameFlags { FrameFlags(rawValue: 1 << 0) }
    /// The frame is a fragment of a larger message (set on every fragment, the last one too).
    @inlinable public static var fragment: FrameFlags { FrameFlags(rawValue: 1 << 1) }
    /// A response that carries an error instead of a result.
    @inlinable public static var error: FrameFlags { FrameFlags(rawValue: 1 << 2) }

    /// Bits a version-1 receiver understands; any other bit set is a malformed frame.
    @inlinable public static var known: FrameFlags { FrameFlags(rawValue: 0b111) }
}

extension FrameHeader {
    /// Writes the header at `base` (which must have 32 writable bytes).
    @inlinable @inline(__always)
    public func encode(to base: UnsafeMutableRawPointer) {
        // Four 8-byte stores, not one per field: a sender streaming into a ring is bound by
        // its store buffer while the lines are fetched for writing, and fewer stores per
        // frame keep more lines in flight. Same bytes as the field offsets in `FrameLayout`.
        let first =
            UInt64(FrameLayout.magic) | UInt64(FrameLayout.version) << 32 | UInt64(kind.rawValue) << 40
            | UInt64(flags.rawValue) << 48
        base.storeBytes(of: first.littleEndian, toByteOffset: 0, as: UInt64.self)
        base.storeBytes(
            of: (UInt64(payloadLength) | UInt64(channel) << 32).littleEndian, toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: correlation.littleEndian, toByteOffset: 16, as: UInt64.self)
        base.storeBytes(of: UInt64(messageLength).littleEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// Reads and validates a header at `base` (32 readable bytes), checking it against `limits`.
    @inlinable @inline(__always)
    public static func decode(
        from base: UnsafeRawPointer, limits: FrameLimits
    ) -> Result<FrameHeader, FrameError> {
        let magic = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard magic == FrameLayout.magic else { return .failure(.badMagic(magic)) }
        let version = base.load(fromByteOffset: 4, as: UInt8.self)
        guard version == FrameLayout.version else { return .failure(.unsupportedVersion(version)) }
        let rawKind = base.load(fromByteOffset: 5, as: UInt8.self)
        guard let kind = MessageKind(rawValue: rawKind) else { return .failure(.unknownKind(rawKind)) }
        let flags = FrameFlags(
            rawValue: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 6, as: UInt16.self)))
        guard FrameFlags.known.isSuperset(of: flags) else { return .failure(.unknownFlags(flags.rawValue)) }
        let length = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard length <= limits.maxFramePayload else {
            return .failure(.tooLong(length: Int(length), limit: Int(limits.maxFramePayload)))
        }
        let reserved = base.loadUnaligned(fromByteOffset: 28, as: UInt32.self)
        guard reserved == 0 else { return .failure(.reservedNotZero) }
        let messageLength = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        if flags.contains(.fragment) {
            guard messageLength <= limits.maxMessage else {
                return .failure(.tooLong(length: Int(messageLength), limit: Int(limits.maxMessage)))
            }
            guard length <= messageLength else { return .failure(.fragmentInconsistent) }
        } else if flags.contains(.moreFragments) || messageLength != 0 {
            return .failure(.fragmentInconsistent)
        }
        return .success(
            FrameHeader(
                kind: kind, flags: flags, payloadLength: length,
                channel: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)),
                correlation: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                messageLength: messageLength))
    }

    /// Bytes the frame occupies including padding up to the next 8-byte boundary.
    @inlinable @inline(__always)
    public static func paddedFrameSize(payload: Int) -> Int {
        (FrameLayout.headerSize + payload + 7) & ~7
    }
}
