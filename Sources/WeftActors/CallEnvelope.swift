import WeftCore

/// The payload of the frames that carry remote calls (layout table in docs/actors.md).
///
/// A call is a `request` frame whose correlation id pairs it with its `response`:
/// ```
/// offset size  field
///      0    1  envelope version (1)
///      1    1  reserved (0)
///      2    2  argument count (u16)
///      4    2  generic substitution count (u16)
///      6    2  reserved (0)
///      8  2+n  target node      (u16 length, UTF-8; empty for virtual actors)
///      …  2+n  target type      (u16 length, UTF-8; empty for plain actors)
///      …  2+n  target key       (u16 length, UTF-8)
///      …  2+n  method identifier (u16 length, UTF-8: the mangled `RemoteCallTarget`)
///      …  2+n  per substitution: mangled type name (u16 length, UTF-8)
///      …  4+n  per argument: byte length (u32), then its tagged encoding (`BinaryTag`)
/// ```
/// A successful `response` carries the tagged result (nothing for `Void`). A response with
/// `FrameFlags.error` carries a failure:
/// ```
///      0    1  RemoteFailure code
///      1    3  reserved (0)
///      4  4+n  message (u32 length, UTF-8)
///      …  2+n  thrownCodable only: the error's mangled type name (u16 length, UTF-8)
///      …    n  thrownCodable only: the error's tagged encoding
/// ```
public enum CallEnvelope {
    public static let version: UInt8 = 1
    public static let fixedSize = 8

    /// A parsed request; `argumentsOffset` is where the first argument's length starts.
    public struct Request: Sendable {
        public var target: ActorID
        public var method: String
        public var argumentCount: Int
        public var substitutions: [String]
        public var argumentsOffset: Int
    }

    static func writeRequest(
        target: ActorID, method: String, invocation: WeftInvocationEncoder, into writer: inout BinaryWriter
    ) throws {
        guard invocation.arguments.count <= Int(UInt16.max), invocation.substitutions.count <= Int(UInt16.max) else {
            throw BinaryCodingError.tooLong(invocation.arguments.count)
        }
        try writer.write(version)
        try writer.write(UInt8(0))
        try writer.write(UInt16(invocation.arguments.count))
        try writer.write(UInt16(invocation.substitutions.count))
        try writer.write(UInt16(0))
        try writer.write(string: target.node, lengthAs: UInt16.self)
        try writer.write(string: target.type, lengthAs: UInt16.self)
        try writer.write(string: target.key, lengthAs: UInt16.self)
        try writer.write(string: method, lengthAs: UInt16.self)
        for name in invocation.substitutions { try writer.write(string: name, lengthAs: UInt16.self) }
        for argument in invocation.arguments {
            let lengthOffset = try writer.placeholder(4)
            try BinaryEncoding.encode(argument, into: &writer)
            writer.patch(UInt32(writer.count - lengthOffset - 4), at: lengthOffset)
        }
    }

    public static func parseRequest(_ bytes: UnsafeRawBufferPointer) throws(BinaryCodingError) -> Request {
        var reader = BinaryReader(bytes)
        let envelopeVersion = try reader.read(UInt8.self)
        guard envelopeVersion == version else {
            throw .invalidValue("call envelope version \(envelopeVersion), expected \(version)")
        }
        // Reserved fields must be 0, so that what parses re-encodes to the same bytes and a
        // later version can give them a meaning.
        guard try reader.read(UInt8.self) == 0 else { throw .invalidValue("call envelope byte 1 is reserved (0)") }
        let arguments = Int(try reader.read(UInt16.self))
        let substitutionCount = Int(try reader.read(UInt16.self))
        guard try reader.read(UInt16.self) == 0 else { throw .invalidValue("call envelope bytes 6–7 are reserved (0)") }
        let target = ActorID(
            node: try reader.readString(lengthAs: UInt16.self), type: try reader.readString(lengthAs: UInt16.self),
            key: try reader.readString(lengthAs: UInt16.self))
        let method = try reader.readString(lengthAs: UInt16.self)
        var substitutions: [String] = []
        for _ in 0..<substitutionCount { substitutions.append(try reader.readString(lengthAs: UInt16.self)) }
        return Request(
            target: target, method: method, argumentCount: arguments, substitutions: substitutions,
            argumentsOffset: reader.position)
    }

    static func writeError(
        _ failure: RemoteFailure, message: String, error: (any Error)? = nil, into writer: inout BinaryWriter
    ) throws {
        let codable = error as? any (Error & Codable)
        let name = codable.flatMap { _mangledTypeName(type(of: $0)) }
        try writer.write((failure == .thrown && name != nil ? RemoteFailure.thrownCodable : failure).rawValue)
        try writer.write(UInt8(0))
        try writer.write(UInt16(0))
        try writer.write(string: message, lengthAs: UInt32.self)
        if failure == .thrown, let codable, let name {
            try writer.write(string: name, lengthAs: UInt16.self)
            try BinaryEncoding.encode(codable, into: &writer)
        }
    }

    /// The error an error reply stands for: the callee's own error when it travelled and its
    /// type is one this node allows (`types`), else `WeftActorError.remote`; a reply with an
    /// unknown failure code or reserved bits set is `WeftActorError.badReply`.
    static func decodeError(_ bytes: UnsafeRawBufferPointer, types: RemoteTypes) -> any Error {
        var reader = BinaryReader(bytes)
        do {
            let raw = try reader.read(UInt8.self)
            guard let failure = RemoteFailure(rawValue: raw) else {
                throw BinaryCodingError.invalidValue("unknown failure code \(raw)")
            }
            guard try reader.read(UInt8.self) == 0, try reader.read(UInt16.self) == 0 else {
                throw BinaryCodingError.invalidValue("bytes 1–3 of an error reply are reserved (0)")
            }
            let message = try reader.readString(lengthAs: UInt32.self)
            if failure == .thrownCodable {
                let name = try reader.readString(lengthAs: UInt16.self)
                guard let type = types.type(named: name) as? any (Error & Codable).Type else {
                    return WeftActorError.remote(.thrown, message: message)
                }
                return try BinaryEncoding.decode(type, from: &reader)
            }
            return WeftActorError.remote(failure, message: message)
        } catch {
            return WeftActorError.badReply("an error reply did not parse: \(error)")
        }
    }
}
