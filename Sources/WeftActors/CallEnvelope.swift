import WeftCore

/// The payload of the frames that carry remote calls (layout table in docs/actors.md).
///
/// A call is a `request` frame whose correlation id pairs it with its `response`:
/// ```
/// offset size  field
///      0    1  envelope version (2)
///      1    1  flags: bit 0 the target's names follow, bit 1 the method's identifier follows
///      2    2  argument count (u16)
///      4    2  generic substitution count (u16)
///      6    2  reserved (0)
///      8    4  target handle (u32; 0: named in this call only)
///     12    4  method handle (u32; 0: named in this call only)
///     16  2+n  flag 0 only: target node, type, key (each u16 length, UTF-8)
///      …  2+n  flag 1 only: method identifier (u16 length, UTF-8: the mangled `RemoteCallTarget`)
///      …  2+n  per substitution: mangled type name (u16 length, UTF-8)
///      …  4+n  per argument: byte length (u32), then its tagged encoding (`BinaryTag`)
/// ```
/// Handles are the caller's, per connection (`OutgoingCallHandles`): a call with a flag set
/// and a non-zero handle binds that handle to the names it carries, and later calls on the
/// connection send the handle alone, so a warm call carries no strings.
///
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
    public static let version: UInt8 = 2
    public static let fixedSize = 16
    /// Handles a connection may bind, for targets and for methods each, and the UTF-8 bytes
    /// of the names one binding may hold: what a peer can make this node remember per
    /// connection is bounded (2 × 1024 × 256 bytes). A caller names anything beyond in each call.
    public static let maxHandles: UInt32 = 1024
    public static let maxBoundNameBytes = 256

    static let targetFollows: UInt8 = 1
    static let methodFollows: UInt8 = 2

    /// A parsed request; `argumentsOffset` is where the first argument's length starts.
    /// `target` and `method` are nil when the call names them by handle only.
    public struct Request: Sendable {
        public var targetHandle: UInt32
        public var methodHandle: UInt32
        public var target: ActorID?
        public var method: String?
        public var argumentCount: Int
        public var substitutions: [String]
        public var argumentsOffset: Int
    }

    /// Writes a request. A nil `target` or `method` is named by its handle alone, which must
    /// then be non-zero and bound earlier on the same connection.
    static func writeRequest(
        target: ActorID?, targetHandle: UInt32 = 0, method: String?, methodHandle: UInt32 = 0,
        invocation: WeftInvocationEncoder, into writer: inout BinaryWriter
    ) throws {
        guard invocation.arguments.count <= Int(UInt16.max), invocation.substitutions.count <= Int(UInt16.max) else {
            throw BinaryCodingError.tooLong(invocation.arguments.count)
        }
        precondition((target != nil || targetHandle != 0) && (method != nil || methodHandle != 0))
        try writer.write(version)
        try writer.write((target == nil ? 0 : targetFollows) | (method == nil ? 0 : methodFollows))
        try writer.write(UInt16(invocation.arguments.count))
        try writer.write(UInt16(invocation.substitutions.count))
        try writer.write(UInt16(0))
        try writer.write(targetHandle)
        try writer.write(methodHandle)
        if let target {
            try writer.write(string: target.node, lengthAs: UInt16.self)
            try writer.write(string: target.type, lengthAs: UInt16.self)
            try writer.write(string: target.key, lengthAs: UInt16.self)
        }
        if let method { try writer.write(string: method, lengthAs: UInt16.self) }
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
        // Reserved bits and bytes must be 0, so that what parses re-encodes to the same bytes
        // and a later version can give them a meaning.
        let flags = try reader.read(UInt8.self)
        guard flags & ~(targetFollows | methodFollows) == 0 else {
            throw .invalidValue("call envelope flags \(flags): only bits 0 and 1 are defined")
        }
        let arguments = Int(try reader.read(UInt16.self))
        let substitutionCount = Int(try reader.read(UInt16.self))
        guard try reader.read(UInt16.self) == 0 else { throw .invalidValue("call envelope bytes 6–7 are reserved (0)") }
        let targetHandle = try reader.read(UInt32.self)
        let methodHandle = try reader.read(UInt32.self)
        guard targetHandle <= maxHandles, methodHandle <= maxHandles else {
            throw .invalidValue("a call handle is above \(maxHandles)")
        }
        guard targetHandle != 0 || flags & targetFollows != 0, methodHandle != 0 || flags & methodFollows != 0 else {
            throw .invalidValue("a call names neither a target or method nor its handle")
        }
        var target: ActorID?
        if flags & targetFollows != 0 {
            target = ActorID(
                node: try reader.readString(lengthAs: UInt16.self), type: try reader.readString(lengthAs: UInt16.self),
                key: try reader.readString(lengthAs: UInt16.self))
        }
        let method = flags & methodFollows != 0 ? try reader.readString(lengthAs: UInt16.self) : nil
        var substitutions: [String] = []
        for _ in 0..<substitutionCount { substitutions.append(try reader.readString(lengthAs: UInt16.self)) }
        return Request(
            targetHandle: targetHandle, methodHandle: methodHandle, target: target, method: method,
            argumentCount: arguments, substitutions: substitutions, argumentsOffset: reader.position)
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
