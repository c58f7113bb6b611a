import Distributed
import WeftCore

extension WeftActorSystem {
    public func remoteCall<Act, Err, Res>(
        on actor: Act, target: RemoteCallTarget, invocation: inout InvocationEncoder, throwing: Err.Type,
        returning: Res.Type
    ) async throws -> Res where Act: DistributedActor, Act.ID == ActorID, Err: Error, Res: Codable {
        let box = ResultBox<Res>(system: self)
        try await call(actor.id, method: target.identifier, invocation: invocation, result: box)
        return box.value!
    }

    public func remoteCallVoid<Act, Err>(
        on actor: Act, target: RemoteCallTarget, invocation: inout InvocationEncoder, throwing: Err.Type
    ) async throws where Act: DistributedActor, Act.ID == ActorID, Err: Error {
        try await call(actor.id, method: target.identifier, invocation: invocation, result: nil)
    }

    /// Sends the call and waits for its reply; `result` decodes it on the IO thread that
    /// received the response, in place (nil: a `Void` call).
    func call(
        _ id: ActorID, method: String, invocation: InvocationEncoder, result: (any ReplyDecoding)?
    ) async throws {
        guard !isShutDown.load(ordering: .relaxed) else { throw WeftActorError.shutDown }
        let node = try owner(of: id)
        let outgoing = try await openConnection(to: node)
        let connection = outgoing.connection
        let plan = outgoing.handles.plan(target: id, method: method)
        let timeout = CallTimeouts.current ?? configuration.callTimeout
        let deadline = ContinuousClock.now + timeout
        let correlation = pending.makeCorrelation()
        let arguments = SendableInvocation(invocation)
        let allowedTypes = remoteTypes
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            pending.add(
                correlation,
                PendingCalls.Entry(node: node, connection: connection.id, target: id, timeout: timeout, deadline: deadline) {
                    outcome in
                    switch outcome {
                    case .value(let bytes):
                        do {
                            try result?.decode(bytes)
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: WeftActorError.badReply("\(error)"))
                        }
                    case .error(let bytes): continuation.resume(throwing: CallEnvelope.decodeError(bytes, types: allowedTypes))
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                })
            do {
                let inOrder = try FrameSender.send(
                    on: connection, header: FrameHeader(kind: .request, correlation: correlation), deadline: deadline,
                    preferredReservation: configuration.preferredReservation
                ) { writer in
                    try CallEnvelope.writeRequest(
                        target: plan.sendsTarget ? id : nil, targetHandle: plan.targetHandle,
                        method: plan.sendsMethod ? method : nil, methodHandle: plan.methodHandle,
                        invocation: arguments.invocation, into: &writer)
                }
                if inOrder { outgoing.handles.announced(plan, target: id, method: method) }
            } catch {
                let failure: any Error =
                    if let transport = error as? TransportError {
                        WeftActorError.connectionLost(node: node, reason: "\(transport)")
                    } else { error }
                pending.take(correlation)?.complete(.failure(failure))
            }
        }
    }

    /// The open connection to `node`; a new one is made on a detached task, because
    /// connecting blocks until the handshake is done, and the caller may be on an IO thread
    /// (which must keep driving its connections) or on one of few cooperative threads.
    func openConnection(to node: String) async throws -> NodeConnections.Outgoing {
        if let existing = connections.outgoing(node) { return existing }
        return try await Task.detached { try self.connection(to: node) }.value
    }

    /// Opens the connections to every live member, this node included (calls to virtual
    /// actors placed here go through its own listener), that are not open yet, all at once,
    /// and waits for them: the connection setup a first call would otherwise pay (a shared-
    /// memory connection maps and faults in its rings, a TCP one completes its handshake)
    /// is paid here, when the member joins. Returns why each member that could not be
    /// reached was not (one that is not listening yet is connected on its first call).
    @discardableResult
    public func connectToMembers() async -> [String: any Error] {
        let nodes = membership.liveMembers.filter { connections.outgoing($0) == nil }
        return await withTaskGroup(of: (String, (any Error)?).self) { group in
            for node in nodes {
                group.addTask {
                    do {
                        _ = try await self.openConnection(to: node)
                        return (node, nil)
                    } catch { return (node, error) }
                }
            }
            var failures: [String: any Error] = [:]
            for await (node, error) in group { if let error { failures[node] = error } }
            return failures
        }
    }

    /// The open connection to `node`, connecting on first use. A node that cannot be reached
    /// fails the call at once.
    func connection(to node: String) throws -> NodeConnections.Outgoing {
        if let existing = connections.outgoing(node) { return existing }
        guard let address = membership.address(of: node) else { throw WeftActorError.unknownNode(node) }
        let handler = SystemConnectionHandler(system: self, node: node)
        do {
            let connection = try transport.connect(
                to: address, options: ConnectionOptions(concurrentSenders: true), handler: handler)
            return connections.addOutgoing(connection, to: node)
        } catch {
            throw WeftActorError.nodeUnreachable(node: node, reason: "\(error)")
        }
    }
}

/// Carries a decoded result from the IO thread to the waiting task (written once, before
/// the continuation resumes, read once after).
protocol ReplyDecoding: AnyObject, Sendable {
    func decode(_ bytes: UnsafeRawBufferPointer) throws
}

final class ResultBox<Value: Decodable>: ReplyDecoding, @unchecked Sendable {
    var value: Value?
    /// Resolves actor references in the result.
    let system: WeftActorSystem

    init(system: WeftActorSystem) { self.system = system }

    func decode(_ bytes: UnsafeRawBufferPointer) throws {
        var reader = BinaryReader(bytes)
        value = try BinaryEncoding.decode(Value.self, from: &reader, actorSystem: system)
        guard reader.remaining == 0 else { throw BinaryCodingError.invalidValue("\(reader.remaining) bytes after the result") }
    }
}

/// The recorded arguments, handed to the synchronous send inside the continuation.
struct SendableInvocation: @unchecked Sendable {
    let invocation: WeftInvocationEncoder
    init(_ invocation: WeftInvocationEncoder) { self.invocation = invocation }
}
