import Distributed
import WeftCore

extension WeftActorSystem {
    /// Serves one request: finds (or activates) the target, decodes the arguments from the
    /// frame in place, runs the method, and replies. Every failure is answered with an error
    /// reply; nothing a caller sends stops the node from serving.
    func serve(_ payload: CallPayload, on connection: any TransportConnection) async {
        // However the call ends, it stops counting against its connection once answered.
        defer { if !payload.replyQueued { payload.calls.answered(on: connection) } }
        guard let request = payload.call else {
            payload.release()
            replyFailure(.malformedCall, "\(payload.malformed.map { "\($0)" } ?? "no request")", to: payload, on: connection)
            return
        }
        let substitutions: [Any.Type]
        do { substitutions = try remoteTypes.resolve(request.substitutions) } catch {
            payload.release()
            replyFailure(
                .badArguments,
                "generic argument '\(error.name)' is not a type node '\(self.name)' accepts from peers (allowRemoteTypes)",
                to: payload, on: connection)
            return
        }
        var record: ActivationRecord?
        let instance: any DistributedActor
        let target = request.target.id
        let method = request.method.identifier
        if target.isVirtual {
            let live: ActivationRecord?
            switch registry.beginCallOrActivateNow(target, system: self) {
            case .activated(let record): live = record
            case .notNow: live = nil
            case .failed(let error):
                payload.release()
                replyFailure(.activationFailed, "\(target): \(error)", to: payload, on: connection)
                return
            }
            if let live {
                record = live
            } else {
                guard registry.registered(target.type) != nil else {
                    payload.release()
                    replyFailure(
                        .unknownActor, "actor type '\(target.type)' is not registered on node '\(name)'",
                        to: payload, on: connection)
                    return
                }
                payload.detach()
                do { record = try await registry.activate(target, system: self) } catch {
                    replyFailure(.activationFailed, "\(target): \(error)", to: payload, on: connection)
                    return
                }
            }
            instance = record!.instance
        } else {
            guard target.node == name, let local = localInstance(target) else {
                payload.release()
                replyFailure(.unknownActor, "no actor \(target) on node '\(name)'", to: payload, on: connection)
                return
            }
            instance = local
        }
        let gate = record?.gate
        if let gate, !gate.tryAcquire() {
            payload.detach()
            await gate.acquire()
        }
        var decoder = WeftInvocationDecoder(payload: payload, call: request, substitutions: substitutions, system: self)
        if request.argumentCount == 0 { payload.release() }
        let handler = WeftResultHandler(
            system: self, connection: connection, correlation: payload.header.correlation, payload: payload)
        // A registered entry takes no generic arguments.
        let thunk = substitutions.isEmpty ? methods.thunk(for: method, on: instance) : nil
        do {
            if staysOnIOThread(target, connection: connection) {
                try await execute(thunk, on: instance, method: method, decoder: &decoder, handler: handler)
            } else {
                // Nonisolated code the method calls must not run on the IO thread.
                var escaped = decoder
                try await withTaskExecutorPreference(globalConcurrentExecutor) {
                    try await execute(thunk, on: instance, method: method, decoder: &escaped, handler: handler)
                }
            }
        } catch {
            if !handler.replied {
                let failure: RemoteFailure = payload.decodeFailure != nil ? .badArguments : .unknownMethod
                replyFailure(failure, "\(target) \(method): \(error)", to: payload, on: connection)
            }
        }
        payload.release()
        gate?.release()
        if let record { registry.endCall(record) }
    }

    /// True when the call is served on an IO thread and its actor is bound to that thread:
    /// then it runs there, with no hop. Any other actor's call leaves the IO thread.
    func staysOnIOThread(_ target: ActorID, connection: any TransportConnection) -> Bool {
        guard configuration.servesOnIOThreads, let bound = boundExecutor(of: target) else { return false }
        return bound.thread === connection.ioThread
    }

    /// Runs the method: through its registered entry point if it has one, else through
    /// `executeDistributedTarget`.
    private func execute(
        _ thunk: MethodThunk?, on actor: any DistributedActor, method: String, decoder: inout WeftInvocationDecoder,
        handler: WeftResultHandler
    ) async throws {
        if let thunk {
            try await thunk.detached(actor, &decoder, handler)
        } else {
            try await executeDistributedTarget(on: actor, method: method, decoder: &decoder, handler: handler)
        }
    }

    /// Opens the existential for `executeDistributedTarget`.
    private func executeDistributedTarget<Act: DistributedActor>(
        on actor: Act, method: String, decoder: inout WeftInvocationDecoder, handler: WeftResultHandler
    ) async throws {
        try await executeDistributedTarget(
            on: actor, target: RemoteCallTarget(method), invocationDecoder: &decoder, handler: handler)
    }

    func replyFailure(
        _ failure: RemoteFailure, _ message: String, to payload: CallPayload, on connection: any TransportConnection
    ) {
        do {
            try sendReply(to: payload, on: connection, isError: true) { writer in
                try CallEnvelope.writeError(failure, message: message, into: &writer)
            }
        } catch {
            logger.warning("could not answer call \(payload.header.correlation) with \(failure): \(error)")
        }
    }

    /// Replies to the call `payload` brought, never waiting for send space (see `IncomingCalls`).
    func sendReply(
        to payload: CallPayload, on connection: any TransportConnection, isError: Bool,
        _ body: (inout BinaryWriter) throws -> Void
    ) throws {
        let header = FrameHeader(kind: .response, flags: isError ? .error : [], correlation: payload.header.correlation)
        if try FrameSender.sendReply(
            on: connection, header: header, calls: payload.calls,
            preferredReservation: configuration.preferredReservation, body)
        {
            payload.replyQueued = true
        }
    }
}
