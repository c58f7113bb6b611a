/// A read cursor over borrowed bytes (a received frame's payload). It never copies the
/// region; strings are made from the bytes in place.
public struct BinaryReader {
    public let base: UnsafeRawPointer
    public let count: Int
    public var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!
        count = bytes.count
    }

    public var remaining: Int { count - position }

    public mutating func read<T: FixedWidthInteger>(_: T.Type) throws(BinaryCodingError) -> T {
        guard remaining >= MemoryLayout<T>.size else { throw .truncated }
        let value = T(littleEndian: (base + position).loadUnaligned(as: T.self))
        position += MemoryLayout<T>.size
        return value
    }

    /// The next tag, without consuming it.
    public func peekTag() throws(BinaryCodingError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    /// Consumes the tag and checks it is `expected`.

    public mutating func expect(_ expected: BinaryTag) throws(BinaryCodingError) {
        let found = try read(UInt8.self)
        guard found == expected.rawValue else { throw .typeMismatch(expected: "\(expected)", found: found) }
    }

    /// `length` bytes in place, consumed.
    public mutating func bytes(_ length: Int) throws(BinaryCodingError) -> UnsafeRawBufferPointer {
        guard length >= 0, remaining >= length else { throw .truncated }
        let view = UnsafeRawBufferPointer(start: base + position, count: length)
        position += length
        return view
    }

    /// A UTF-8 string after a length of `LengthType`.
    public mutating func readString<LengthType: FixedWidthInteger>(
        lengthAs _: LengthType.Type
    ) throws(BinaryCodingError) -> String {
        let length = Int(try read(LengthType.self))
        let view = try bytes(length)
        // Decoding repairs ill-formed UTF-8; the bytes must then differ. (`String(validating:)`
        // is not specialized for UTF-8 and looks up generic metadata on every call.)
        var text = String(decoding: view, as: UTF8.self)
        guard text.withUTF8({ $0.elementsEqual(view) }) else { throw .invalidValue("a string is not valid UTF-8") }
        return text
    }

    /// True when the UTF-8 string at the cursor (u16 length) equals `key`; consumes it only then.
    public mutating func matchKey(_ key: String) throws(BinaryCodingError) -> Bool {
        let start = position
        let length = Int(try read(UInt16.self))
        let view = try bytes(length)
        var key = key
        let equal = key.withUTF8 {
            $0.count == length && (length == 0 || memcmp($0.baseAddress!, view.baseAddress!, length) == 0)
        }
        if !equal { position = start }
        return equal
    }

    /// How deep containers may nest in a value read from a peer. Skipping, and decoding a
    /// type that contains itself, recurse once per level: without a bound, a few bytes per
    /// level (an unkeyed container of one element, five bytes) would let a peer's megabyte
    /// exhaust the thread's stack. Values of ordinary types nest a handful of levels.
    static let maxDepth = 128

    /// Skips one whole tagged value.
    public mutating func skipValue() throws(BinaryCodingError) {
        try skipValue(depth: 0)
    }

    private mutating func skipValue(depth: Int) throws(BinaryCodingError) {
        guard depth < Self.maxDepth else { throw .invalidValue("containers nest deeper than \(Self.maxDepth) levels") }
        let raw = try read(UInt8.self)
        guard let tag = BinaryTag(rawValue: raw) else { throw .typeMismatch(expected: "a value", found: raw) }
        if let size = tag.fixedSize {
            _ = try bytes(size)
            return
        }
        switch tag {
        case .string:
            _ = try bytes(Int(try read(UInt32.self)))
        case .unkeyed:
            let elements = try read(UInt32.self)
            for _ in 0..<elements { try skipValue(depth: depth + 1) }
        case .keyed:
            let entries = try read(UInt32.self)
            for _ in 0..<entries {
                _ = try bytes(Int(try read(UInt16.self)))
                try skipValue(depth: depth + 1)
            }
        default: break
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
