import Distributed

/// A `Decoder` that reads tagged values (table in `BinaryTag`) from borrowed bytes, in place.
///
/// Keyed containers are read in order when the type asks for keys in the order they were
/// written (synthesized conformances do); any other order, `contains` and `decodeIfPresent`
/// fall back to a scan of the container's entries.
public final class BinaryDecoder: Decoder {
    public var reader: BinaryReader
    public var codingPath: [any CodingKey] = []
    /// The system that resolves actor references met in the bytes: a distributed actor's
    /// `init(from:)` looks for it under `CodingUserInfoKey.actorSystemKey`.
    public var actorSystem: WeftActorSystem?
    private var otherUserInfo: [CodingUserInfoKey: Any] = [:]
    /// Built when asked for (an actor reference, a type that reads it), never per value.
    public var userInfo: [CodingUserInfoKey: Any] {
        get {
            guard let actorSystem else { return otherUserInfo }
            var info = otherUserInfo
            info[.actorSystemKey] = actorSystem
            return info
        }
        set { otherUserInfo = newValue }
    }
    /// How many values are being decoded through `Decodable` inside one another: bounded by
    /// `BinaryReader.maxDepth`, since a type that contains itself recurses once per level.
    private var depth = 0

    public init(reader: BinaryReader, actorSystem: WeftActorSystem? = nil) {
        self.reader = reader
        self.actorSystem = actorSystem
    }

    /// Decodes the value at the cursor and leaves the cursor right after it.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let fast = type as? any BinaryCodable.Type {
            return try fast.init(from: &reader) as! T
        }
        guard depth < BinaryReader.maxDepth else {
            throw BinaryCodingError.invalidValue("values nest deeper than \(BinaryReader.maxDepth) levels")
        }
        depth += 1
        defer { depth -= 1 }
        let start = reader.position
        let value = try T(from: self)
        // The type may have read its entries out of order or skipped some: find the end.
        reader.position = start
        try reader.skipValue()
        return value
    }

    public func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try reader.expect(.keyed)
        let count = Int(try reader.read(UInt32.self))
        return KeyedDecodingContainer(
            KeyedBinaryDecodingContainer<Key>(decoder: self, state: KeyedReadState(start: reader.position, count: count)))
    }

    public func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try reader.expect(.unkeyed)
        let count = Int(try reader.read(UInt32.self))
        guard count <= reader.remaining else { throw BinaryCodingError.truncated }
        return UnkeyedBinaryDecodingContainer(decoder: self, total: count, offset: reader.position)
    }

    public func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueBinaryDecodingContainer(decoder: self)
    }
}

/// Where a keyed container's next in-order entry starts.
final class KeyedReadState {
    let start: Int
    let count: Int
    var nextIndex = 0
    var nextOffset: Int

    init(start: Int, count: Int) {
        self.start = start
        self.count = count
        nextOffset = start
    }
}

struct KeyedBinaryDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BinaryDecoder
    let state: KeyedReadState
    var codingPath: [any CodingKey] { decoder.codingPath }

    /// The entry index and value offset of `key`, or nil.
    private func find(_ key: Key) throws -> (index: Int, value: Int)? {
        let name = key.stringValue
        if state.nextIndex < state.count {
            decoder.reader.position = state.nextOffset
            if try decoder.reader.matchKey(name) { return (state.nextIndex, decoder.reader.position) }
        }
        decoder.reader.position = state.start
        for index in 0..<state.count {
            if try decoder.reader.matchKey(name) { return (index, decoder.reader.position) }
            _ = try decoder.reader.bytes(Int(try decoder.reader.read(UInt16.self)))
            try decoder.reader.skipValue()
        }
        return nil
    }

    private func decodeEntry<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let (index, offset) = try find(key) else { throw BinaryCodingError.keyNotFound(key.stringValue) }
        decoder.reader.position = offset
        let value = try decoder.decodeValue(type)
        state.nextIndex = index + 1
        state.nextOffset = decoder.reader.position
        return value
    }

    var allKeys: [Key] {
        var keys: [Key] = []
        decoder.reader.position = state.start
        for _ in 0..<state.count {
            guard let name = try? decoder.reader.readString(lengthAs: UInt16.self), (try? decoder.reader.skipValue()) != nil
            else { break }
            if let key = Key(stringValue: name) { keys.append(key) }
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { ((try? find(key)) ?? nil) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let (_, offset) = try find(key) else { return true }
        decoder.reader.position = offset
        return try decoder.reader.peekTag() == BinaryTag.null.rawValue
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeEntry(type, forKey: key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeEntry(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeEntry(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeEntry(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeEntry(type, forKey: key) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        guard let (_, offset) = try find(key) else { throw BinaryCodingError.keyNotFound(key.stringValue) }
        decoder.reader.position = offset
        return try decoder.container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let (_, offset) = try find(key) else { throw BinaryCodingError.keyNotFound(key.stringValue) }
        decoder.reader.position = offset
        return try decoder.unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { try superDecoder(forKey: Key(stringValue: "super")!) }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        guard let (_, offset) = try find(key) else { throw BinaryCodingError.keyNotFound(key.stringValue) }
        decoder.reader.position = offset
        return decoder
    }
}

struct UnkeyedBinaryDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BinaryDecoder
    let total: Int
    var offset: Int
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { total }
    var isAtEnd: Bool { currentIndex >= total }

    init(decoder: BinaryDecoder, total: Int, offset: Int) {
        self.decoder = decoder
        self.total = total
        self.offset = offset
    }

    private mutating func next<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isAtEnd else { throw BinaryCodingError.truncated }
        decoder.reader.position = offset
        let value = try decoder.decodeValue(type)
        offset = decoder.reader.position
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw BinaryCodingError.truncated }
        decoder.reader.position = offset
        guard try decoder.reader.peekTag() == BinaryTag.null.rawValue else { return false }
        offset += 1
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey>
    {
        decoder.reader.position = offset
        try skipOne()
        decoder.reader.position = offsetBeforeSkip
        return try decoder.container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        decoder.reader.position = offset
        try skipOne()
        decoder.reader.position = offsetBeforeSkip
        return try decoder.unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        decoder.reader.position = offset
        try skipOne()
        decoder.reader.position = offsetBeforeSkip
        return decoder
    }

    private var offsetBeforeSkip = 0
    /// Moves past the element at `offset` (a nested container is read later, in place).
    private mutating func skipOne() throws {
        guard !isAtEnd else { throw BinaryCodingError.truncated }
        offsetBeforeSkip = offset
        try decoder.reader.skipValue()
        offset = decoder.reader.position
        currentIndex += 1
    }
}

struct SingleValueBinaryDecodingContainer: SingleValueDecodingContainer {
    let decoder: BinaryDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { (try? decoder.reader.peekTag()) == BinaryTag.null.rawValue }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
    func decode(_ type: Bool.Type) throws -> Bool { try Bool(from: &decoder.reader) }
    func decode(_ type: String.Type) throws -> String { try String(from: &decoder.reader) }
    func decode(_ type: Double.Type) throws -> Double { try Double(from: &decoder.reader) }
    func decode(_ type: Float.Type) throws -> Float { try Float(from: &decoder.reader) }
    func decode(_ type: Int.Type) throws -> Int { try Int(from: &decoder.reader) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Int8(from: &decoder.reader) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Int16(from: &decoder.reader) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Int32(from: &decoder.reader) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Int64(from: &decoder.reader) }
    func decode(_ type: UInt.Type) throws -> UInt { try UInt(from: &decoder.reader) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try UInt8(from: &decoder.reader) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try UInt16(from: &decoder.reader) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try UInt32(from: &decoder.reader) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try UInt64(from: &decoder.reader) }
}
