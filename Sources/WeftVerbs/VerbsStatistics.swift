import Synchronization

/// What one verbs connection has done, for tests and diagnostics (`weft pingpong
/// --transport-statistics`): how frames left (sends against RDMA rendezvous) and how many
/// RDMA READs this side made to fetch the peer's large frames.
public struct VerbsStatistics: Sendable, Equatable {
    /// Send work requests that carried an application frame or a fragment of one, or a
    /// `rendezvousReady` standing for one.
    public var sends: UInt64
    /// Of those, `rendezvousReady` frames: frames the peer reads by RDMA instead.
    public var rendezvousSends: UInt64
    /// Control frames sent (handshake, credit, close, rendezvousDone).
    public var controlSends: UInt64
    /// RDMA READs this side completed (each one fetches a whole frame of the peer).
    public var rdmaReads: UInt64
    /// Bytes those READs moved, frame headers included.
    public var rdmaReadBytes: UInt64
    /// The most rendezvous this side had offered and the peer not yet read, at once.
    public var rendezvousPeakInFlight: UInt64
}

/// The counters behind `VerbsStatistics`. Each has one writer (the sender under its lock,
/// or the IO thread), so it counts with a plain load and store, never a locked add.
struct VerbsCounters: ~Copyable {
    let sends = Atomic<UInt64>(0)
    let rendezvousSends = Atomic<UInt64>(0)
    let controlSends = Atomic<UInt64>(0)
    let rdmaReads = Atomic<UInt64>(0)
    let rdmaReadBytes = Atomic<UInt64>(0)
    let rendezvousPeakInFlight = Atomic<UInt64>(0)

    @inline(__always)
    static func bump(_ counter: borrowing Atomic<UInt64>, by amount: UInt64 = 1) {
        counter.store(counter.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    var snapshot: VerbsStatistics {
        VerbsStatistics(
            sends: sends.load(ordering: .relaxed),
            rendezvousSends: rendezvousSends.load(ordering: .relaxed),
            controlSends: controlSends.load(ordering: .relaxed),
            rdmaReads: rdmaReads.load(ordering: .relaxed),
            rdmaReadBytes: rdmaReadBytes.load(ordering: .relaxed),
            rendezvousPeakInFlight: rendezvousPeakInFlight.load(ordering: .relaxed))
    }
}
