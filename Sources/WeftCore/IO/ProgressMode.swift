/// How an IO thread waits for work.
public enum ProgressMode: String, Sendable, CaseIterable, Hashable {
    /// Busy-poll forever: lowest latency, one core per IO thread.
    case spin
    /// Busy-poll for the spin window after the last work, then sleep until woken.
    case adaptive
    /// Sleep in the kernel whenever idle: lowest CPU use, pays a wake-up per message.
    case sleep
}
