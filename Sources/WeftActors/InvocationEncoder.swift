import Distributed

/// Records a call's arguments without encoding them yet: the system encodes them once it
/// holds a send reservation, straight into transport memory (`CallEnvelope.writeRequest`).
public struct WeftInvocationEncoder: DistributedTargetInvocationEncoder {
    public typealias SerializationRequirement = Codable

    var arguments: [any Codable] = []
    var substitutions: [String] = []

    init() { arguments.reserveCapacity(4) }

    public mutating func recordGenericSubstitution<T>(_ type: T.Type) {
        substitutions.append(_mangledTypeName(type) ?? "")
    }

    public mutating func recordArgument<Value: SerializationRequirement>(_ argument: RemoteCallArgument<Value>) throws {
        arguments.append(argument.value)
    }

    public mutating func recordErrorType<E: Error>(_ type: E.Type) {}

    public mutating func recordReturnType<R: SerializationRequirement>(_ type: R.Type) throws {}

    public mutating func doneRecording() {}
}
