import Synchronization

/// How much memory reassembling fragmented messages may take: per connection, and for all
/// connections of the process together. A peer declares a message's length in its first
/// fragment; the buffer grows only as bytes arrive, goes back once the message is released,
/// and a fragment that would pass either bound closes its one connection with the protocol's
/// error (`tooLong` or `reassemblyOverBudget`).
///
/// | setting | config key | default |
/// |---|---|---|
/// | `connectionBytes` | `reassembly.connection-bytes` | 64 MiB (never above `max-message-bytes`) |
/// | `pool.limit` | `reassembly.process-bytes` | 1 GiB |
public struct ReassemblyLimits: Sendable {
    /// Largest message one connection may reassemble.
    public var connectionBytes: Int
    /// The process-wide budget every connection's reassembly buffer draws from.
    public var pool: ReassemblyPool

    public init(connectionBytes: Int = Int(FrameLimits.protocolMaximum), pool: ReassemblyPool = .shared) {
        self.connectionBytes = connectionBytes
        self.pool = pool
    }

    /// A buffer this small stays with its connection between messages; larger ones go back.
    public static let retainedBytes = 1 << 20
}

/// Bytes held by reassembly buffers across the process, against a limit. Taken and given
/// back when a buffer grows or shrinks (a few times per large message, never per frame).
public final class ReassemblyPool: Sendable {
    private let limitBytes: Atomic<Int>
    private let used = Atomic<Int>(0)

    public init(limit: Int) { limitBytes = Atomic(limit) }

    /// The pool of this process that transports use unless given another.
    public static let shared = ReassemblyPool(limit: 1 << 30)

    /// The budget; a node sets it from `reassembly.process-bytes` when it starts.
    public var limit: Int {
        get { limitBytes.load(ordering: .relaxed) }
        set { limitBytes.store(newValue, ordering: .relaxed) }
    }

    public var bytesInUse: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` if the budget has room; false (taking nothing) if not.
    func take(_ bytes: Int) -> Bool {
        let after = used.wrappingAdd(bytes, ordering: .relaxed).newValue
        if after <= limit { return true }
        used.wrappingSubtract(bytes, ordering: .relaxed)
        return false
    }

    func giveBack(_ bytes: Int) { used.wrappingSubtract(bytes, ordering: .relaxed) }
}
