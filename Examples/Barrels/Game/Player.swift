import Distributed
import WeftActors

/// A virtual actor keyed by the player's name: it shoots barrels until they are destroyed
/// and keeps the score.
public distributed actor Player {
    public typealias ActorSystem = WeftActorSystem
    let name: String
    var points = 0

    /// Plays on `executor`'s IO thread: its shots are sent, and their replies read, there.
    public init(name: String, executor: IOThreadExecutor, actorSystem: WeftActorSystem) {
        self.name = name
        self.actorSystem = actorSystem
        actorSystem.bind(id, to: executor)
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { actorSystem.unownedExecutor(of: id) }

    /// Shoots each of `barrels` in turn until it is destroyed. The caller passes the
    /// references (actor references travel as arguments, as in the Python original's
    /// `enter_level(barrels)`); each resolves on this node to a proxy of a virtual actor.
    public distributed func play(barrels: [Barrel]) async throws -> Score {
        var shots = 0
        var destroyed = 0
        var byNode: [String: Int] = [:]
        for barrel in barrels {
            while true {
                let shot = try await barrel.shoot()
                shots += 1
                if shot.hit { points += GameRules.pointsPerHit }
                guard shot.destroyed else { continue }
                points += GameRules.pointsPerDestroyed
                destroyed += 1
                byNode[shot.node, default: 0] += 1
                break
            }
        }
        return Score(
            player: name, node: actorSystem.name, points: points, shots: shots, destroyed: destroyed, barrelsByNode: byNode)
    }

    public distributed func node() -> String { actorSystem.name }
}

extension Player: RegisteredMethods {
    public static func registerMethods(into methods: inout MethodTable<Player>) {
        methods.add("play(barrels:)") { (player: isolated Player, barrels: [Barrel]) in try await player.play(barrels: barrels) }
        methods.add("node()") { (player: isolated Player) in player.node() }
    }
}
