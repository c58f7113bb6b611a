import WeftCore

/// How a consumer that may sleep and its producer keep a wake-up from being lost (the
/// store-buffering pattern: each side stores, then loads what the other stored).
enum WakeProtocol: UInt32 {
    /// The producer runs a full fence between its tag store and its load of `sleeping`,
    /// on every publish.
    case producerFence = 0
    /// The consumer runs `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)` between its store of
    /// `sleeping` and its re-check, once per sleep; a producer in a registered process then
    /// needs only a compiler barrier. Declared by adaptive consumers, whose sleeps are rare
    /// under load; a sleep-mode consumer sleeps after every burst and keeps `producerFence`.
    case consumerBarrier = 1

    /// What a consumer in `mode` declares on this machine.
    static func declared(by mode: ProgressMode) -> WakeProtocol {
        mode == .adaptive && GlobalMembarrier.available ? .consumerBarrier : .producerFence
    }
}
