import Distributed
import Synchronization
import WeftActors

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

/// Counts activations, deactivations and live instances (deinit) per key prefix.
enum Lifecycle {
    static let activations = Atomic<Int>(0)
    static let deactivations = Atomic<Int>(0)
    static let live = Atomic<Int>(0)
}

/// A virtual actor with lifecycle hooks.
distributed actor Player: ActivationHooks {
    typealias ActorSystem = WeftActorSystem
    let key: String
    var hits = 0

    init(key: String, actorSystem: WeftActorSystem) {
        self.key = key
        self.actorSystem = actorSystem
        Lifecycle.live.wrappingAdd(1, ordering: .relaxed)
    }

    deinit { Lifecycle.live.wrappingSubtract(1, ordering: .relaxed) }

    func didActivate() async throws { Lifecycle.activations.wrappingAdd(1, ordering: .relaxed) }

    func willDeactivate() async { Lifecycle.deactivations.wrappingAdd(1, ordering: .relaxed) }

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
