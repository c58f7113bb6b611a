/// A type with a hand-written binary form: the fast path that skips `Encoder`/`Decoder`
/// entirely. The standard integers, floating-point types, `Bool`, `String`, and arrays
/// and optionals of such types conform; others go through `BinaryEncoder`/`BinaryDecoder`.
///
/// A conformance must write exactly what the `Codable` path would (the tag table in
/// `BinaryTag`), so that either side may use either path.
public protocol BinaryCodable {
    func encode(to writer: inout BinaryWriter) throws(BinaryCodingError)
    init(from reader: inout BinaryReader) throws(BinaryCodingError)
}

extension Bool: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) throws(BinaryCodingError) {
        try writer.write(self ? BinaryTag.true : .false)
    }
    public init(from reader: inout BinaryReader) throws(BinaryCodingError) {
        let tag = try reader.read(UInt8.self)
        switch tag {
        case BinaryTag.true.rawValue: self = true
        case BinaryTag.false.rawValue: self = false
        default: throw .typeMismatch(expected: "Bool", found: tag)
        }
    }
}

extension String: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) throws(BinaryCodingError) {
        try writer.write(BinaryTag.string)
        try writer.write(string: self, lengthAs: UInt32.self)
    }
    public init(from reader: inout BinaryReader) throws(BinaryCodingError) {
        try reader.expect(.string)
        self = try reader.readString(lengthAs: UInt32.self)
    }
}

/// Integers travel as the tag of their width and signedness; `Int` and `UInt` as 64 bits.
protocol TaggedInteger: FixedWidthInteger {
    associatedtype Wire: FixedWidthInteger
    static var tag: BinaryTag { get }
}

extension TaggedInteger {
    public func encode(to writer: inout BinaryWriter) throws(BinaryCodingError) {
        try writer.write(Self.tag)
        try writer.write(Wire(self))
    }
    public init(from reader: inout BinaryReader) throws(BinaryCodingError) {
        try reader.expect(Self.tag)
        let wire = try reader.read(Wire.self)
        guard let value = Self(exactly: wire) else { throw .invalidValue("\(wire) does not fit \(Self.self)") }
        self = value
    }
}

extension Int8: TaggedInteger, BinaryCodable {
    typealias Wire = Int8
    static var tag: BinaryTag { .int8 }
}
extension Int16: TaggedInteger, BinaryCodable {
    typealias Wire = Int16
    static var tag: BinaryTag { .int16 }
}
extension Int32: TaggedInteger, BinaryCodable {
    typealias Wire = Int32
    static var tag: BinaryTag { .int32 }
}
extension Int64: TaggedInteger, BinaryCodable {
    typealias Wire = Int64
    static var tag: BinaryTag { .int64 }
}
extension Int: TaggedInteger, BinaryCodable {
    typealias Wire = Int64
    static var tag: BinaryTag { .int64 }
}
extension UInt8: TaggedInteger, BinaryCodable {
    typealias Wire = UInt8
    static var tag: BinaryTag { .uint8 }
}
extension UInt16: TaggedInteger, BinaryCodable {
    typealias Wire = UInt16
    static var tag: BinaryTag { .uint16 }
}
extension UInt32: TaggedInteger, BinaryCodable {
    typealias Wire = UInt32
    static var tag: BinaryTag { .uint32 }
}
extension UInt64: TaggedInteger, BinaryCodable {
    typealias Wire = UInt64
    static var tag: BinaryTag { .uint64 }
}
extension UInt: TaggedInteger, BinaryCodable {
    typealias Wire = UInt64
    static var tag: BinaryTag { .uint64 }
}

extension Float: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) throws(BinaryCodingError) {
        try writer.write(BinaryTag.float)
        try writer.write(bitPattern)
    }
    public init(from reader: inout BinaryReader) throws(BinaryCodingError) {
        try reader.expect(.float)
        self = Float(bitPattern: try reader.read(UInt32.self))
    }
}

extension Double: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) throws(BinaryCodingError) {
        try writer.write(BinaryTag.double)
        try writer.write(bitPattern)
    }
    public init(from reader: inout BinaryReader) throws(BinaryCodingError) {
        try reader.expect(.double)
        self = Double(bitPattern: try reader.read(UInt64.self))
    }
}

extension Optional: BinaryCodable where Wrapped: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) throws(BinaryCodingError) {
        if let value = self { try value.encode(to: &writer) } else { try writer.write(BinaryTag.null) }
    }
    public init(from reader: inout BinaryReader) throws(BinaryCodingError) {
        if try reader.peekTag() == BinaryTag.null.rawValue {
            reader.position += 1
            self = nil
        } else {
            self = try Wrapped(from: &reader)
        }
    }
}

extension Array: BinaryCodable where Element: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) throws(BinaryCodingError) {
        try writer.write(BinaryTag.unkeyed)
        guard count <= Int(UInt32.max) else { throw .tooLong(count) }
        try writer.write(UInt32(count))
        for element in self { try element.encode(to: &writer) }
    }
    public init(from reader: inout BinaryReader) throws(BinaryCodingError) {
        try reader.expect(.unkeyed)
        let count = Int(try reader.read(UInt32.self))
        // Every element takes at least one byte: a lying count cannot reserve much.
        guard count <= reader.remaining else { throw .truncated }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try Element(from: &reader)) }
        self = elements
    }
}
