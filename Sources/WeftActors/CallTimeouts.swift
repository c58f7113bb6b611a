import Synchronization
import WeftCore

/// How a call that waits for its reply ends.
enum ReplyOutcome {
    /// The result's bytes, borrowed from the response frame for the duration of the call.
    case value(UnsafeRawBufferPointer)
    /// An error reply's bytes, borrowed likewise.
    case error(UnsafeRawBufferPointer)
    /// No reply: time-out, connection lost, shut down, or the request could not be sent.
    case failure(any Error)
}

/// Overrides the system's call time-out for remote calls made inside `body`.
///
/// ```swift
/// let score = try await withCallTimeout(.milliseconds(200)) { try await player.score() }
/// ```
public func withCallTimeout<T>(_ timeout: Duration, _ body: () async throws -> T) async rethrows -> T {
    try await CallTimeouts.$current.withValue(timeout) { try await body() }
}

public enum CallTimeouts {
    /// The time-out for remote calls made by this task; nil: the system's `callTimeout`.
    @TaskLocal public static var current: Duration?
}

/// Calls waiting for their reply, by correlation id. Whoever removes an entry completes it,
/// so each call ends exactly once: by its reply, its deadline, or its connection's end.
final class PendingCalls: Sendable {
    struct Entry: Sendable {
        let node: String
        let connection: ConnectionID
        let target: ActorID
        let timeout: Duration
        let deadline: ContinuousClock.Instant
        let complete: @Sendable (ReplyOutcome) -> Void
    }

    private let entries = Locked<[UInt64: Entry]>([:])
    private let nextCorrelation = Atomic<UInt64>(1)

    func makeCorrelation() -> UInt64 { nextCorrelation.wrappingAdd(1, ordering: .relaxed).oldValue }

    func add(_ correlation: UInt64, _ entry: Entry) { entries.withLock { $0[correlation] = entry } }

    func take(_ correlation: UInt64) -> Entry? { entries.withLock { $0.removeValue(forKey: correlation) } }

    var count: Int { entries.withLock { $0.count } }

    /// Fails every call whose deadline has passed (run by the system's ticker).
    func expire(now: ContinuousClock.Instant) {
        let expired = entries.withLock { table -> [Entry] in
            let late = table.filter { $0.value.deadline <= now }
            for key in late.keys { table[key] = nil }
            return Array(late.values)
        }
        for entry in expired { entry.complete(.failure(WeftActorError.timedOut(actor: entry.target, after: entry.timeout))) }
    }

    /// Fails every call waiting on `connection` (it closed).
    func fail(connection: ConnectionID, with error: @escaping (Entry) -> any Error) {
        let lost = entries.withLock { table -> [Entry] in
            let waiting = table.filter { $0.value.connection == connection }
            for key in waiting.keys { table[key] = nil }
            return Array(waiting.values)
        }
        for entry in lost { entry.complete(.failure(error(entry))) }
    }

    func failAll(_ error: any Error) {
        let all = entries.withLock { table -> [Entry] in
            let taken = Array(table.values)
            table.removeAll()
            return taken
        }
        for entry in all { entry.complete(.failure(error)) }
    }
}
