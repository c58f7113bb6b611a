#if canImport(Glibc)
    import Glibc
#endif

/// Ends the program after a time limit however stuck it is: SIGALRM kills the members it
/// started, says so in one sentence and exits 1 (only async-signal-safe calls).
enum Watchdog {
    nonisolated(unsafe) private static let pids = UnsafeMutablePointer<pid_t>.allocate(capacity: 16)
    nonisolated(unsafe) private static var pidCount = 0
    nonisolated(unsafe) private static var message: [UInt8] = []

    static func arm(seconds: Int) {
        message = Array("barrels: the game did not finish within \(seconds) s; members killed\n".utf8)
        signal(SIGALRM) { _ in
            for index in 0..<Watchdog.pidCount { kill(Watchdog.pids[index], SIGKILL) }
            Watchdog.message.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
            _exit(1)
        }
        alarm(UInt32(seconds))
    }

    /// Records a member to kill if time runs out (before the member can matter).
    static func watch(_ pid: pid_t) {
        guard pidCount < 16 else { return }
        pids[pidCount] = pid
        pidCount += 1
    }
}
