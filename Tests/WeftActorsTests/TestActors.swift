import Distributed
import Synchronization
import WeftActors
import WeftCore

struct Inner: Codable, Equatable, Sendable {
    var id: UInt16
    var flag: Bool
}

struct Payload: Codable, Equatable, Sendable {
    var name: String
    var scores: [Double]
    var tags: [String: Int]
    var note: String?
    var nested: [Inner]
    var small: Int8
    var ratio: Float
}

struct Oops: Error, Codable, Equatable {
    var code: Int
}

struct NotCodableError: Error, CustomStringConvertible {
    var description: String { "something went wrong" }
}

/// A plain distributed actor: lives where it was made.
distributed actor Counter {
    typealias ActorSystem = WeftActorSystem
    var total = 0

    distributed func add(_ amount: Int) -> Int {
        total += amount
        return total
    }

    distributed func echo(_ payload: Payload) -> Payload { payload }

    distributed func big(_ count: Int) -> [UInt8] { [UInt8](repeating: 7, count: count) }

    distributed func fail(_ code: Int) throws { throw Oops(code: code) }

    distributed func failPlainly() throws -> Int { throw NotCodableError() }

    distributed func sleep(milliseconds: Int) async throws {
        try await Task.sleep(for: .milliseconds(milliseconds))
    }

    distributed func node() -> String { actorSystem.name }

    /// Generic: the caller names `Value` on the wire (a generic substitution).
    distributed func identity<Value: Codable & Sendable>(_ value: Value) -> Value { value }
}

/// Calls the actors it is handed: actor references as arguments, and as results.
distributed actor Relay {
    typealias ActorSystem = WeftActorSystem

    distributed func add(through counter: Counter, _ amount: Int) async throws -> Int { try await counter.add(amount) }

    distributed func handBack(_ counters: [Counter]) -> [Counter] { counters }

    distributed func node() -> String { actorSystem.name }
}

/// Counts activations, deactivations and live instances (deinit) of `Player`s per key:
/// suites run in parallel and other suites' players must not move one test's counts.
enum Lifecycle {
    struct Counts: Equatable {
        var activations = 0
        var deactivations = 0
        var live = 0
    }

    private static let byKey = Locked<[String: Counts]>([:])

    static func counts(_ key: String) -> Counts { byKey.withLock { $0[key] ?? Counts() } }

    static func update(_ key: String, _ change: (inout Counts) -> Void) {
        byKey.withLock { change(&$0[key, default: Counts()]) }
    }
}

/// A virtual actor with lifecycle hooks.
distributed actor Player: ActivationHooks {
    typealias ActorSystem = WeftActorSystem
    let key: String
    var hits = 0

    init(key: String, actorSystem: WeftActorSystem) {
        self.key = key
        self.actorSystem = actorSystem
        Lifecycle.update(key) { $0.live += 1 }
    }

    deinit { Lifecycle.update(key) { $0.live -= 1 } }

    func didActivate() async throws { Lifecycle.update(key) { $0.activations += 1 } }

    func willDeactivate() async { Lifecycle.update(key) { $0.deactivations += 1 } }

    distributed func hit() -> Int {
        hits += 1
        return hits
    }

    distributed func node() -> String { actorSystem.name }

    distributed func name() -> String { key }
}

/// Logs when each call starts and ends, awaiting in between.
distributed actor Stepper {
    typealias ActorSystem = WeftActorSystem
    var log: [String] = []

    distributed func step(_ label: String) async throws {
        log.append("start \(label)")
        try await Task.sleep(for: .milliseconds(100))
        log.append("end \(label)")
    }

    distributed func entries() -> [String] { log }
}

/// The same behaviour, registered non-reentrant.
distributed actor SerialStepper {
    typealias ActorSystem = WeftActorSystem
    var log: [String] = []

    distributed func step(_ label: String) async throws {
        log.append("start \(label)")
        try await Task.sleep(for: .milliseconds(100))
        log.append("end \(label)")
    }

    distributed func entries() -> [String] { log }
}
