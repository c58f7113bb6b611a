import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The main thread's one place to wait: IO-thread handlers post when a run completes or
/// fails, and SIGINT/SIGTERM post too (`sem_post` is async-signal-safe). The main thread
/// waits in bounded slices so it can also watch the peer process and the deadline.
enum Wakeup {
    nonisolated(unsafe) static let semaphore: UnsafeMutablePointer<sem_t> = {
        let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        return semaphore
    }()

    /// Set by the signal handler.
    static let interrupted = Atomic<Bool>(false)

    static var wasInterrupted: Bool { interrupted.load(ordering: .relaxed) }

    static func post() { sem_post(semaphore) }

    /// Waits until posted or `milliseconds` pass.
    static func wait(milliseconds: Int) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + (milliseconds % 1000) * 1_000_000
        deadline.tv_sec += milliseconds / 1000 + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        while sem_timedwait(semaphore, &deadline) != 0 && errno == EINTR {}
    }

    /// SIGINT and SIGTERM post and set `interrupted`; SIGPIPE is ignored (a closed socket
    /// is reported by the transport, not by killing the process).
    static func installSignalHandlers() {
        _ = semaphore
        _ = wasInterrupted
        var action = sigaction()
        action.__sigaction_handler.sa_handler = onSignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        signal(SIGPIPE, SIG_IGN)
    }
}

private let onSignal: @convention(c) (Int32) -> Void = { _ in
    Wakeup.interrupted.store(true, ordering: .relaxed)
    sem_post(Wakeup.semaphore)
}
