import WeftCore

/// The handles this node bound for its calls on one outgoing connection (`CallEnvelope`).
///
/// A target or method gets the next handle the first time it is called; calls name it in
/// full until one of them has gone out in order (committed in place, or sent whole before
/// the sender returned), and by handle alone after that: a later call's frame is reserved
/// after that commit, so it reaches the peer after the binding. A handle is never rebound
/// to something else. Past `CallEnvelope.maxHandles`, and for names longer than
/// `CallEnvelope.maxBoundNameBytes`, calls name their target or method in full each time.
final class OutgoingCallHandles: Sendable {
    struct Plan {
        var targetHandle: UInt32 = 0
        var sendsTarget = true
        var methodHandle: UInt32 = 0
        var sendsMethod = true
    }

    private struct Binding {
        let handle: UInt32
        var announced = false
    }

    private struct State {
        var targets: [ActorID: Binding] = [:]
        var methods: [String: Binding] = [:]
    }
    private let state = Locked(State())

    func plan(target: ActorID, method: String) -> Plan {
        state.withLock { state in
            var plan = Plan()
            (plan.targetHandle, plan.sendsTarget) = Self.bind(target, size: target.boundBytes, in: &state.targets)
            (plan.methodHandle, plan.sendsMethod) = Self.bind(method, size: method.utf8.count, in: &state.methods)
            return plan
        }
    }

    /// The call planned with `plan` went out in order: its bindings are known to the peer.
    func announced(_ plan: Plan, target: ActorID, method: String) {
        guard plan.sendsTarget && plan.targetHandle != 0 || plan.sendsMethod && plan.methodHandle != 0 else { return }
        state.withLock { state in
            if plan.targetHandle != 0 { state.targets[target]?.announced = true }
            if plan.methodHandle != 0 { state.methods[method]?.announced = true }
        }
    }

    private static func bind<Key: Hashable>(_ key: Key, size: Int, in table: inout [Key: Binding]) -> (UInt32, Bool) {
        if let binding = table[key] { return (binding.handle, !binding.announced) }
        guard table.count < Int(CallEnvelope.maxHandles), size <= CallEnvelope.maxBoundNameBytes else { return (0, true) }
        let binding = Binding(handle: UInt32(table.count + 1))
        table[key] = binding
        return (binding.handle, true)
    }
}
