import WeftActors

/// Registers the game's virtual actors on a node. Every member registers both types the
/// same way, so any member may own any of them.
public enum GameRegistration {
    public static let playerType = "Player"
    public static let barrelType = "Barrel"

    /// Barrels are dealt round-robin over the live members by their number, so any two or
    /// more processes each get some; players go by the consistent-hash ring.
    public static let barrelPlacement = PlacementStrategy.custom { id, live in
        let number = GameRules.barrelNumber(id.key) ?? Int(truncatingIfNeeded: HashRing.hash(id.key) >> 1)
        return live[number % live.count]
    }

    /// The actors run on `executor`'s IO thread (the node's first).
    public static func register(on system: WeftActorSystem, executor: IOThreadExecutor) {
        system.register(Player.self, name: playerType) { key, system in
            Player(name: key, executor: executor, actorSystem: system)
        }
        system.register(Barrel.self, name: barrelType, options: VirtualActorOptions(placement: barrelPlacement)) { key, system in
            Barrel(key: key, executor: executor, actorSystem: system)
        }
    }
}
