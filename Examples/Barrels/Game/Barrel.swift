import Distributed
import WeftActors

/// A virtual actor keyed `barrel-N`: it has hit points, and each shot takes one.
public distributed actor Barrel {
    public typealias ActorSystem = WeftActorSystem
    let key: String
    var hitPoints: Int

    /// Runs on `executor`'s IO thread: a shot that arrives there is served inside the
    /// connection's handler (`RegisteredMethods`).
    public init(key: String, executor: IOThreadExecutor, actorSystem: WeftActorSystem) {
        self.key = key
        self.actorSystem = actorSystem
        hitPoints = GameRules.hitPoints(of: key)
        actorSystem.bind(id, to: executor)
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { actorSystem.unownedExecutor(of: id) }

    public distributed func shoot() -> Shot {
        guard hitPoints > 0 else { return Shot(hit: false, destroyed: true, node: actorSystem.name) }
        hitPoints -= 1
        return Shot(hit: true, destroyed: hitPoints == 0, node: actorSystem.name)
    }

    /// Holds the call for `milliseconds`, then answers the hit points left (tests use it to
    /// kill a member while a call is in flight).
    public distributed func brace(milliseconds: Int) async throws -> Int {
        try await Task.sleep(for: .milliseconds(milliseconds))
        return hitPoints
    }

    public distributed func node() -> String { actorSystem.name }
}

extension Barrel: RegisteredMethods {
    public static func registerMethods(into methods: inout MethodTable<Barrel>) {
        methods.add("shoot()") { (barrel: isolated Barrel) in barrel.shoot() }
        methods.add("node()") { (barrel: isolated Barrel) in barrel.node() }
    }
}
