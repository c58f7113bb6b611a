/// A write cursor over raw memory: either a fixed region (a send reservation's payload),
/// where running out of room throws `BinaryCodingError.overflow`, or a buffer it owns and
/// grows (the fallback for a call larger than one reservation).
///
/// Values are stored little-endian and unaligned. Positions are offsets, not pointers, so
/// a growing buffer may move. A growable writer's owner calls `deallocate()` when done
/// (the writer is a plain value so an `Encoder` can carry it and hand it back).
public struct BinaryWriter {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    @usableFromInline let owned: Bool
    /// Bytes written so far.
    public internal(set) var count = 0

    /// Writes into `region`, which the writer does not own.
    public init(fixed region: UnsafeMutableRawBufferPointer) {
        base = region.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 8)!
        capacity = region.count
        owned = false
    }

    /// Writes into a buffer of its own that grows as needed.
    public init(growable initialCapacity: Int) {
        capacity = max(initialCapacity, 64)
        base = .allocate(byteCount: capacity, alignment: 8)
        owned = true
    }

    /// Frees a growable writer's buffer; a fixed writer owns nothing.
    public mutating func deallocate() {
        if owned { base.deallocate() }
        capacity = 0
        count = 0
    }

    /// The bytes written, valid until the next write or the writer's end.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func ensure(_ extra: Int) throws(BinaryCodingError) {
        if count + extra <= capacity { return }
        guard owned else { throw .overflow }
        var grown = capacity * 2
        while grown < count + extra { grown *= 2 }
        let moved = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 8)
        moved.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = moved
        capacity = grown
    }

    public mutating func write<T: FixedWidthInteger>(_ value: T) throws(BinaryCodingError) {
        try ensure(MemoryLayout<T>.size)
        (base + count).storeBytes(of: value.littleEndian, as: T.self)
        count += MemoryLayout<T>.size
    }

    public mutating func write(_ tag: BinaryTag) throws(BinaryCodingError) { try write(tag.rawValue) }

    public mutating func write(bytes: UnsafeRawBufferPointer) throws(BinaryCodingError) {
        try ensure(bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 { (base + count).copyMemory(from: source, byteCount: bytes.count) }
        count += bytes.count
    }

    /// UTF-8 bytes after a length of `LengthType` (UInt16 for names, UInt32 for values).
    public mutating func write<LengthType: FixedWidthInteger>(
        string: String, lengthAs _: LengthType.Type
    ) throws(BinaryCodingError) {
        var text = string
        let length = text.utf8.count
        guard length <= Int(LengthType.max) else { throw .tooLong(length) }
        try write(LengthType(length))
        try ensure(length)
        let start = base + count
        text.withUTF8 { if let source = $0.baseAddress, length > 0 { start.copyMemory(from: source, byteCount: length) } }
        count += length
    }

    /// Reserves `size` bytes to patch later (a length or count written after its contents).
    public mutating func placeholder(_ size: Int) throws(BinaryCodingError) -> Int {
        try ensure(size)
        let offset = count
        count += size
        return offset
    }

    public func patch<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        (base + offset).storeBytes(of: value.littleEndian, as: T.self)
    }

    public func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: (base + offset).loadUnaligned(as: T.self))
    }
}

/// What binary encoding and decoding can fail with.
public enum BinaryCodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The fixed region (one reservation) is full; the caller falls back to a growable buffer.
    case overflow
    /// A string or container is longer than its length field can say.
    case tooLong(Int)
    /// The bytes end before the value does.
    case truncated
    /// The value's tag is not the one the type expects.
    case typeMismatch(expected: String, found: UInt8)
    /// A keyed container has no entry for the key.
    case keyNotFound(String)
    /// A string is not valid UTF-8, or a number does not fit the type.
    case invalidValue(String)
    /// A type named on the wire is not known to this process.
    case unknownType(String)

    public var description: String {
        switch self {
        case .overflow: return "the encoded value does not fit the region"
        case .tooLong(let length): return "\(length) is too long for its length field"
        case .truncated: return "the bytes end inside a value"
        case .typeMismatch(let expected, let found): return "expected \(expected), found tag 0x\(String(found, radix: 16))"
        case .keyNotFound(let key): return "no value for key '\(key)'"
        case .invalidValue(let why): return why
        case .unknownType(let name): return "unknown type \(name)"
        }
    }
}
