extension WeftActorSystem {
    /// Binds the local actor `id` to an IO thread: from then on its `unownedExecutor`
    /// (written as below) is that thread's, and calls arriving on that thread run there
    /// without a thread hop. Call it in the actor's initializer; the binding ends with the
    /// actor (`resignID`).
    ///
    /// A distributed actor cannot read its own stored properties from a nonisolated
    /// context, so the executor is looked up by identity:
    ///
    /// ```swift
    /// distributed actor Sensor {
    ///     typealias ActorSystem = WeftActorSystem
    ///     init(thread: IOThread, actorSystem: WeftActorSystem) {
    ///         self.actorSystem = actorSystem
    ///         actorSystem.bind(id, to: .for(thread))
    ///     }
    ///     nonisolated var unownedExecutor: UnownedSerialExecutor { actorSystem.unownedExecutor(of: id) }
    /// }
    /// ```
    public func bind(_ id: ActorID, to executor: IOThreadExecutor) {
        boundExecutors.withLock { bindings in
            bindings[id] = ExecutorBinding(executor: executor, instances: (bindings[id]?.instances ?? 0) + 1)
        }
    }

    /// The executor `bind` gave `id`, if any.
    public func boundExecutor(of id: ActorID) -> IOThreadExecutor? { boundExecutors.withLock { $0[id]?.executor } }

    /// The serial executor of an actor bound with `bind`; an unbound actor is a programming error.
    public func unownedExecutor(of id: ActorID) -> UnownedSerialExecutor {
        guard let executor = boundExecutor(of: id) else {
            preconditionFailure(
                "actor \(id) takes its executor from its system but was never bound: call bind(id, to:) in its init")
        }
        return executor.asUnownedSerialExecutor()
    }
}
