import Distributed
import WeftActors

/// A virtual actor keyed by the player's name: it shoots barrels until they are destroyed
/// and keeps the score.
public distributed actor Player {
    public typealias ActorSystem = WeftActorSystem
    let name: String
    var points = 0

    public init(name: String, actorSystem: WeftActorSystem) {
        self.name = name
        self.actorSystem = actorSystem
    }

    /// Shoots `barrel-1` … `barrel-<barrels>` in turn, each until it is destroyed.
    public distributed func play(barrels: Int) async throws -> Score {
        var shots = 0
        var destroyed = 0
        var byNode: [String: Int] = [:]
        for number in 1...barrels {
            let barrel = try actorSystem.actor(Barrel.self, key: GameRules.barrelKey(number))
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
