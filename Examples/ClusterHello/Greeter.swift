import Distributed
import WeftActors

/// A virtual actor keyed by a member's name and placed on that member: calling
/// `Greeter(key: "18888:2")` reaches node 18888:2, wherever it runs.
distributed actor Greeter {
    typealias ActorSystem = WeftActorSystem

    init(actorSystem: WeftActorSystem) { self.actorSystem = actorSystem }

    /// Answers with the name of the node the actor lives on.
    distributed func hello(from caller: String) -> String { "hello \(caller), from \(actorSystem.name)" }

    /// Holds the call (a call kept in flight while its node is killed).
    distributed func hold(milliseconds: Int) async throws -> String {
        try await Task.sleep(for: .milliseconds(milliseconds))
        return actorSystem.name
    }

    static let typeName = "Greeter"

    static func register(on system: WeftActorSystem) {
        system.register(
            Greeter.self, name: typeName, options: VirtualActorOptions(placement: .custom { id, _ in id.key })
        ) { _, system in Greeter(actorSystem: system) }
    }
}
