import Distributed
import WeftCore

/// Sends a served call's outcome back as a `response` frame with the request's correlation
/// id: the result encoded in place, or (with `FrameFlags.error`) the thrown error.
public final class WeftResultHandler: DistributedTargetInvocationResultHandler, @unchecked Sendable {
    public typealias SerializationRequirement = Codable

    let system: WeftActorSystem
    let connection: any TransportConnection
    let correlation: UInt64
    let payload: CallPayload
    private(set) var replied = false

    init(system: WeftActorSystem, connection: any TransportConnection, correlation: UInt64, payload: CallPayload) {
        self.system = system
        self.connection = connection
        self.correlation = correlation
        self.payload = payload
    }

    public func onReturn<Success: Codable>(value: Success) async throws { try sendValue(value) }

    public func onReturnVoid() async throws { try sendVoid() }

    public func onThrow<Err: Error>(error: Err) async throws { try sendThrown(error) }

    func sendThrown(_ error: some Error) throws {
        replied = true
        if let failure = payload.decodeFailure {
            system.replyFailure(.badArguments, "\(failure)", to: payload, on: connection)
            return
        }
        try system.sendReply(to: payload, on: connection, isError: true) { writer in
            try CallEnvelope.writeError(.thrown, message: "\(error)", error: error, into: &writer)
        }
    }

    // MARK: Registered methods (`MethodTable`) reply with these directly.

    func sendValue<Result: Codable>(_ value: Result) throws {
        replied = true
        try system.sendReply(to: payload, on: connection, isError: false) { writer in
            try BinaryEncoding.encode(value, into: &writer)
        }
    }

    func sendVoid() throws {
        replied = true
        try system.sendReply(to: payload, on: connection, isError: false) { _ in }
    }
}
