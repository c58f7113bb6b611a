import Distributed

/// Decodes a call's arguments from the request's bytes in place, in order. When the last
/// argument is decoded it gives the frame back, so the connection delivers its next frame
/// while the method runs.
public struct WeftInvocationDecoder: DistributedTargetInvocationDecoder {
    public typealias SerializationRequirement = Codable

    let payload: CallPayload
    /// Resolves actor references passed as arguments.
    let system: WeftActorSystem
    let argumentCount: Int
    let substitutions: [Any.Type]
    var position: Int
    var decoded = 0

    init(payload: CallPayload, argumentCount: Int, argumentsOffset: Int, substitutions: [Any.Type], system: WeftActorSystem) {
        self.payload = payload
        self.system = system
        self.argumentCount = argumentCount
        self.substitutions = substitutions
        position = argumentsOffset
    }

    init(payload: CallPayload, request: CallEnvelope.Request, substitutions: [Any.Type], system: WeftActorSystem) {
        self.init(
            payload: payload, argumentCount: request.argumentCount, argumentsOffset: request.argumentsOffset,
            substitutions: substitutions, system: system)
    }

    init(payload: CallPayload, call: IncomingCall, substitutions: [Any.Type], system: WeftActorSystem) {
        self.init(
            payload: payload, argumentCount: call.argumentCount, argumentsOffset: call.argumentsOffset,
            substitutions: substitutions, system: system)
    }

    public mutating func decodeGenericSubstitutions() throws -> [Any.Type] { substitutions }

    public mutating func decodeNextArgument<Argument: Codable>() throws -> Argument {
        do {
            guard decoded < argumentCount else {
                throw BinaryCodingError.invalidValue("the call carries only \(argumentCount) arguments")
            }
            var reader = BinaryReader(payload.bytes)
            reader.position = position
            let length = Int(try reader.read(UInt32.self))
            var argument = BinaryReader(try reader.bytes(length))
            let value = try BinaryEncoding.decode(Argument.self, from: &argument, actorSystem: system)
            guard argument.remaining == 0 else {
                throw BinaryCodingError.invalidValue(
                    "argument \(decoded) has \(argument.remaining) bytes left over as \(Argument.self)")
            }
            position = reader.position
            decoded += 1
            if decoded == argumentCount { payload.release() }
            return value
        } catch {
            payload.decodeFailure = error
            throw error
        }
    }

    public mutating func decodeErrorType() throws -> Any.Type? { nil }

    public mutating func decodeReturnType() throws -> Any.Type? { nil }
}
