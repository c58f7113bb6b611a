import CWeftSharedMemory

/// `membarrier(2)` with `MEMBARRIER_CMD_GLOBAL_EXPEDITED`, which makes the ring's wake-up
/// handshake asymmetric (`WakeProtocol.consumerBarrier`): the consumer, about to sleep, runs
/// a barrier on every CPU that runs a thread of a registered process, so producers in those
/// processes may skip their per-message fence.
enum GlobalMembarrier {
    /// This process is registered (done when the transport is created, before any of its
    /// rings exists, so no consumer can have announced sleep on a ring whose producer's
    /// barrier would be missed). False where the kernel lacks the commands or a seccomp
    /// filter refuses them: producers here then keep the fence.
    static let registered: Bool = cweft_membarrier_register_global() == 0

    /// The kernel offers the barrier and runs it (a seccomp filter may allow the query and
    /// refuse the command): a consumer here may declare `consumerBarrier`.
    static let available: Bool = cweft_membarrier_global_available() != 0 && cweft_membarrier_global() == 0

    /// Runs the barrier; false when the kernel refused it (the caller then must not sleep
    /// for long on the strength of it).
    static func barrier() -> Bool { cweft_membarrier_global() == 0 }
}
