import BarrelsGame
import WeftActors
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Loads the configuration (flag > WEFT_* > config file > default) and resolves the transport.
func loadConfiguration(_ arguments: Arguments) async throws -> (WeftConfiguration, TransportDescriptor) {
    var environment: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let equals = text.firstIndex(of: "=") {
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        entry += 1
    }
    return try await GameConfiguration.load(
        flags: arguments.configFlags, environment: environment, configFile: arguments.configFile)
}

/// Starts the other members, plays one game from member 0, and checks the score.
func runGame(_ arguments: Arguments) async throws -> String {
    let (configuration, descriptor) = try await loadConfiguration(arguments)
    let count = arguments.processes
    let addresses = try ClusterAddresses.make(transport: descriptor.name, count: count, tag: "\(getpid())")
    let membership = Membership(addresses)
    let node = try GameNode(
        name: ClusterAddresses.memberName(0), memberIndex: 0, membership: membership, configuration: configuration,
        descriptor: descriptor)
    var children: [ChildProcess] = []
    defer {
        node.shutdown()
        for child in children { child.terminate() }
    }
    for index in 1..<count {
        let child = try ChildProcess(
            name: ClusterAddresses.memberName(index),
            arguments: arguments.forwarded + [
                "--member-index", "\(index)", "--members", ClusterAddresses.encode(addresses),
            ])
        Watchdog.watch(child.processID)
        children.append(child)
    }
    let readyBy = ContinuousClock.now + .seconds(max(arguments.timeoutSeconds / 2, 1))
    for child in children { try child.waitUntilReady(until: readyBy) }
    // Every member listens now: this one connects to them all before the game, as the
    // members did while joining.
    let unreachable = await node.system.connectToMembers()
    if let (member, error) = unreachable.first { throw ClusterFailure("member \(member) cannot be reached: \(error)") }

    let player = try node.system.actor(Player.self, key: GameRules.playerName)
    let barrels = try (1...GameRules.barrelCount).map { try node.system.actor(Barrel.self, key: GameRules.barrelKey($0)) }
    let started = ContinuousClock.now
    let score = try await player.play(barrels: barrels)
    let elapsed = ContinuousClock.now - started

    let expected = GameRules.expectedScore(barrels: GameRules.barrelCount)
    let expectedShots = GameRules.expectedShots(barrels: GameRules.barrelCount)
    guard score.destroyed == GameRules.barrelCount, score.shots == expectedShots, score.points == expected else {
        throw ClusterFailure(
            "the score is wrong: \(score.points) points for \(score.destroyed) barrels in \(score.shots) shots, "
                + "the rules give \(expected) points for \(GameRules.barrelCount) barrels in \(expectedShots) shots")
    }
    guard score.barrelsByNode.count == count else {
        throw ClusterFailure("the barrels lived on \(score.barrelsByNode.count) of the \(count) processes, not on all of them")
    }
    let spread = score.barrelsByNode.keys.sorted().map { "\($0) \(score.barrelsByNode[$0]!)" }.joined(separator: ", ")
    let tenths = elapsed.components.seconds * 10_000 + elapsed.components.attoseconds / 100_000_000_000_000
    return """
        Player \(score.player) (on \(score.node)) destroyed \(score.destroyed) barrels with \(score.shots) shots: \
        score \(score.points) (the rules say \(expected)).
        Barrels per process: \(spread); transport \(descriptor.name), \(count) processes, \
        \(score.shots) shots (distributed calls) in \(tenths / 10).\(tenths % 10) ms.
        """
}
