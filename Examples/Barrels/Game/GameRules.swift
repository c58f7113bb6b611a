/// The rules of the barrels game, in one place so that the player, the program that checks
/// the score, and the tests agree.
///
/// Barrel `barrel-N` starts with `1 + N % 3` hit points; each shot takes one. A shot that
/// hits scores `pointsPerHit`, and the shot that destroys a barrel scores
/// `pointsPerDestroyed` on top.
public enum GameRules {
    public static let barrelCount = 30
    public static let pointsPerHit = 10
    public static let pointsPerDestroyed = 50
    public static let playerName = "Bob"

    public static func barrelKey(_ number: Int) -> String { "barrel-\(number)" }

    /// The number in `barrel-N`, or nil for another key.
    public static func barrelNumber(_ key: String) -> Int? {
        guard key.hasPrefix("barrel-") else { return nil }
        return Int(key.dropFirst("barrel-".count))
    }

    public static func hitPoints(of key: String) -> Int { 1 + (barrelNumber(key) ?? 0) % 3 }

    /// Shots needed to destroy barrels 1…`count`.
    public static func expectedShots(barrels count: Int) -> Int {
        (1...count).reduce(0) { $0 + hitPoints(of: barrelKey($1)) }
    }

    /// The score a player earns by destroying barrels 1…`count`.
    public static func expectedScore(barrels count: Int) -> Int {
        expectedShots(barrels: count) * pointsPerHit + count * pointsPerDestroyed
    }
}

/// What one shot did.
public struct Shot: Codable, Sendable, Equatable {
    public var hit: Bool
    public var destroyed: Bool
    /// The member the barrel lives on.
    public var node: String
}

/// A player's report at the end of a game.
public struct Score: Codable, Sendable, Equatable {
    public var player: String
    /// The member the player lives on.
    public var node: String
    public var points: Int
    public var shots: Int
    public var destroyed: Int
    /// How many of the destroyed barrels lived on each member.
    public var barrelsByNode: [String: Int]
}
