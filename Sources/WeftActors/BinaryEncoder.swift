/// Entry points of the binary encoding: values of `BinaryCodable` types take the fast path;
/// any other `Encodable` goes through `BinaryEncoder`, which writes in place too.
public enum BinaryEncoding {
    /// Asks the runtime now what `encode` and `decode` ask first of a value of `type`
    /// (`TypePreparation`).
    static func prepare<T>(_ type: T.Type) { _ = type as? any BinaryCodable.Type }

    public static func encode<T: Encodable>(_ value: T, into writer: inout BinaryWriter) throws {
        if let fast = value as? any BinaryCodable {
            try fast.encode(to: &writer)
            return
        }
        let encoder = BinaryEncoder(writer: writer)
        defer { writer = encoder.writer }
        try value.encode(to: encoder)
        if let failure = encoder.failure { throw failure }
    }

    /// `actorSystem` resolves the actor references the value holds (arguments and results of
    /// calls always pass theirs).
    public static func decode<T: Decodable>(
        _ type: T.Type, from reader: inout BinaryReader, actorSystem: WeftActorSystem? = nil
    ) throws -> T {
        if let fast = type as? any BinaryCodable.Type {
            return try fast.init(from: &reader) as! T
        }
        let decoder = BinaryDecoder(reader: reader, actorSystem: actorSystem)
        let value = try decoder.decodeValue(type)
        reader.position = decoder.reader.position
        return value
    }
}

/// An `Encoder` that streams tagged values (table in `BinaryTag`) into a `BinaryWriter`:
/// the reservation's payload on the hot path. Containers write their tag and a count at
/// creation and bump the count with every entry, so nothing is buffered.
///
/// Like every streaming encoder, it expects a nested container to be filled before its
/// parent goes on (true of all synthesized `Codable` conformances).
public final class BinaryEncoder: Encoder {
    public var writer: BinaryWriter
    public var codingPath: [any CodingKey] = []
    public var userInfo: [CodingUserInfoKey: Any] = [:]
    /// The first write that failed inside a non-throwing container factory.
    var failure: BinaryCodingError?

    public init(writer: BinaryWriter) { self.writer = writer }

    func check() throws(BinaryCodingError) { if let failure { throw failure } }

    /// Writes `tag` and a zero count; returns the count's offset (-1 after a failure).
    func open(_ tag: BinaryTag) -> Int {
        do {
            try writer.write(tag)
            let offset = try writer.placeholder(4)
            writer.patch(UInt32(0), at: offset)
            return offset
        } catch {
            failure = failure ?? error
            return -1
        }
    }

    func bump(_ countOffset: Int) {
        guard countOffset >= 0 else { return }
        writer.patch(writer.load(UInt32.self, at: countOffset) &+ 1, at: countOffset)
    }

    func encodeValue<T: Encodable>(_ value: T) throws {
        try check()
        if let fast = value as? any BinaryCodable {
            try fast.encode(to: &writer)
        } else {
            try value.encode(to: self)
            try check()
        }
    }

    public func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedBinaryEncodingContainer<Key>(encoder: self, countOffset: open(.keyed)))
    }

    public func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedBinaryEncodingContainer(encoder: self, countOffset: open(.unkeyed))
    }

    public func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueBinaryEncodingContainer(encoder: self) }
}

struct KeyedBinaryEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BinaryEncoder
    let countOffset: Int
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func begin(_ key: Key) throws {
        try encoder.check()
        try encoder.writer.write(string: key.stringValue, lengthAs: UInt16.self)
        encoder.bump(countOffset)
    }

    mutating func encodeNil(forKey key: Key) throws {
        try begin(key)
        try encoder.writer.write(BinaryTag.null)
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try begin(key)
        try encoder.encodeValue(value)
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int8, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int16, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        try begin(key)
        try value.encode(to: &encoder.writer)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        do { try begin(key) } catch { encoder.failure = encoder.failure ?? (error as? BinaryCodingError) ?? .overflow }
        return encoder.container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        do { try begin(key) } catch { encoder.failure = encoder.failure ?? (error as? BinaryCodingError) ?? .overflow }
        return encoder.unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        do { try begin(key) } catch { encoder.failure = encoder.failure ?? (error as? BinaryCodingError) ?? .overflow }
        return encoder
    }
}

struct UnkeyedBinaryEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BinaryEncoder
    let countOffset: Int
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { countOffset < 0 ? 0 : Int(encoder.writer.load(UInt32.self, at: countOffset)) }

    private func begin() throws {
        try encoder.check()
        encoder.bump(countOffset)
    }

    mutating func encodeNil() throws {
        try begin()
        try encoder.writer.write(BinaryTag.null)
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try begin()
        try encoder.encodeValue(value)
    }
    mutating func encode(_ value: Bool) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: String) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Double) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Float) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int8) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int16) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int32) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int64) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt8) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt16) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt32) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt64) throws {
        try begin()
        try value.encode(to: &encoder.writer)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        encoder.bump(countOffset)
        return encoder.container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        encoder.bump(countOffset)
        return encoder.unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        encoder.bump(countOffset)
        return encoder
    }
}

struct SingleValueBinaryEncodingContainer: SingleValueEncodingContainer {
    let encoder: BinaryEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws {
        try encoder.check()
        try encoder.writer.write(BinaryTag.null)
    }
    mutating func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value) }
    mutating func encode(_ value: Bool) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: String) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Double) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Float) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int8) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int16) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int32) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: Int64) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt8) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt16) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt32) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
    mutating func encode(_ value: UInt64) throws {
        try encoder.check()
        try value.encode(to: &encoder.writer)
    }
}
