import Distributed
import WeftCore

extension WeftActorSystem {
    /// Serves a call inside its connection's handler, on the receiving IO thread, when it can
    /// run to its end there without waiting: a registered synchronous method (`MethodTable`)
    /// of a live actor bound to this thread, not busy if non-reentrant, with no generic
    /// substitutions. No task, no queued job: the method runs isolated to its actor, whose
    /// executor is this thread, and its reply is written from here. Returns false, having
    /// changed nothing, for any other call (`serve` takes it).
    ///
    /// What a plain target resolves to is kept in its connection's slot, so a warm call
    /// looks nothing up: an actor binds its executor once, in its initializer. Calls served
    /// here may run before calls to the same actor that arrived earlier and wait in a task
    /// (as calls of concurrent tasks may anyway); a non-reentrant actor's gate keeps order.
    func serveInline(_ payload: CallPayload, on connection: any TransportConnection) -> Bool {
        guard configuration.servesOnIOThreads, let call = payload.call, call.substitutions.isEmpty else { return false }
        let target = call.target
        var record: ActivationRecord?
        let instance: any DistributedActor
        if target.id.isVirtual {
            // Activations come and go, and may bind to another thread each time. One without
            // hooks is made right here: its factory is all there is to it.
            let live: ActivationRecord
            switch registry.beginCallOrActivateNow(target.id, system: self) {
            case .activated(let record): live = record
            case .notNow: return false
            case .failed(let error):
                payload.release()
                replyFailure(.activationFailed, "\(target.id): \(error)", to: payload, on: connection)
                if !payload.replyQueued { payload.calls.answered(on: connection) }
                return true
            }
            guard isolatedHere(live.instance, connection: connection) != nil else {
                registry.endCall(live)
                return false
            }
            record = live
            instance = live.instance
        } else if let known = target.instance, target.executor?.thread === connection.ioThread {
            instance = known
        } else {
            guard target.id.node == name, let local = localInstance(target.id),
                let bound = isolatedHere(local, connection: connection)
            else { return false }
            target.instance = local
            target.executor = bound
            instance = local
        }
        guard let run = isolatedThunk(call.method, for: instance), record?.gate?.tryAcquire() ?? true else {
            if let record { registry.endCall(record) }
            return false
        }
        var decoder = WeftInvocationDecoder(payload: payload, call: call, substitutions: [], system: self)
        let handler = WeftResultHandler(
            system: self, connection: connection, correlation: payload.header.correlation, payload: payload)
        do { try run(instance, &decoder, handler) } catch {
            // Only an argument that did not decode, or a reply that could not be sent, gets here.
            if !handler.replied {
                replyFailure(.badArguments, "\(target.id) \(call.method.identifier): \(error)", to: payload, on: connection)
            }
        }
        payload.release()
        if let record {
            record.gate?.release()
            registry.endCall(record)
        }
        if !payload.replyQueued { payload.calls.answered(on: connection) }
        return true
    }

    /// The actor's own executor, when it is the IO thread of `connection` (asked of the
    /// actor itself: `bind` alone does not make an actor run there).
    private func isolatedHere(_ actor: any DistributedActor, connection: any TransportConnection) -> IOThreadExecutor? {
        guard let executor = actor.unownedExecutor.asSerialExecutor() as? IOThreadExecutor,
            executor.thread === connection.ioThread
        else { return nil }
        return executor
    }

    /// The method's synchronous entry point for `instance`'s type, remembered in its slot.
    private func isolatedThunk(_ method: MethodSlot, for instance: any DistributedActor) -> MethodThunk.Isolated? {
        let type = ObjectIdentifier(Swift.type(of: instance))
        if method.resolvedFor != type {
            method.thunk = methods.thunk(for: method.identifier, on: instance)
            method.resolvedFor = type
        }
        return method.thunk?.isolated
    }
}
