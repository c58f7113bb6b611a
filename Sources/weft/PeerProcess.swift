#if canImport(Glibc)
    import Glibc
    import Weft
#endif

/// A `weft serve` child that `pingpong` and `rate` start for themselves: spawned from this
/// executable, read until it says `listening on ADDRESS`, watched while the run goes on,
/// and terminated when the run ends (SIGTERM, then SIGKILL after two seconds).
///
/// The child is also told this process's id (`--parent-pid`) and stops by itself if this
/// process dies without cleaning up.
///
/// Used from one thread at a time (the command's main thread, or its sender thread while
/// the main thread waits for it).
final class PeerProcess: @unchecked Sendable {
    let processID: pid_t
    private var outputDescriptor: Int32
    private var reaped = false
    private var buffered: [UInt8] = []

    /// Spawns `/proc/self/exe arguments…` with stdout on a pipe; stderr is shared.
    init(arguments: [String]) throws(CommandFailure) {
        guard let executable = ProcessEnvironment.executablePath() else {
            throw .failed("cannot find this executable (/proc/self/exe) to start the peer")
        }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw .failed("cannot make a pipe for the peer: \(String(cString: strerror(errno)))")
        }
        // Neither end leaks into other children; dup2 onto the child's fd 1 clears the flag there.
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(ends[1])
        guard rc == 0 else {
            close(ends[0])
            throw .failed("cannot start the peer (\(executable)): \(String(cString: strerror(rc)))")
        }
        processID = child
        outputDescriptor = ends[0]
    }

    deinit { terminate() }

    /// Reads the child's stdout until its `listening on ADDRESS` line; returns ADDRESS.
    func waitUntilListening(deadline: UInt64) throws(CommandFailure) -> String {
        let prefix = "listening on "
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
                continue
            }
            if Wakeup.wasInterrupted { throw .interrupted }
            let now = monotonicNanoseconds()
            guard now < deadline else { throw .timedOut("the peer did not start listening in time") }
            var poller = pollfd(fd: outputDescriptor, events: Int16(POLLIN), revents: 0)
            let waitMilliseconds = Int32(min(200, (deadline - now) / 1_000_000 + 1))
            let ready = poll(&poller, 1, waitMilliseconds)
            if ready < 0 && errno != EINTR {
                throw .failed("cannot read from the peer: \(String(cString: strerror(errno)))")
            }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 512)
            let count = read(outputDescriptor, &chunk, chunk.count)
            if count > 0 {
                buffered += chunk[..<count]
            } else if count == 0 {
                try checkAlive(waitingUpTo: 2_000)
                throw .peerFailed("weft serve closed its output before listening")
            }
        }
    }

    /// Throws if the child has ended. `waitingUpTo` milliseconds: wait that long for it to end.
    func checkAlive(waitingUpTo milliseconds: Int = 0) throws(CommandFailure) {
        guard !reaped else { throw .peerFailed("weft serve has ended") }
        var remaining = milliseconds
        while true {
            var status: Int32 = 0
            let result = waitpid(processID, &status, WNOHANG)
            if result == processID {
                reaped = true
                throw .peerFailed("weft serve (pid \(processID)) \(Self.describe(status: status))")
            }
            if result < 0 && errno != EINTR {
                reaped = true
                throw .peerFailed("weft serve (pid \(processID)) is gone")
            }
            if remaining <= 0 { return }
            usleep(10_000)
            remaining -= 10
        }
    }

    /// Stops the child (SIGTERM, SIGKILL after two seconds) and reaps it. Idempotent.
    func terminate() {
        if !reaped {
            kill(processID, SIGTERM)
            var status: Int32 = 0
            var ended = false
            for _ in 0..<200 {
                let result = waitpid(processID, &status, WNOHANG)
                if result == processID || (result < 0 && errno != EINTR) {
                    ended = true
                    break
                }
                usleep(10_000)
            }
            if !ended {
                kill(processID, SIGKILL)
                while waitpid(processID, &status, 0) < 0 && errno == EINTR {}
            }
            reaped = true
        }
        if outputDescriptor >= 0 {
            close(outputDescriptor)
            outputDescriptor = -1
        }
    }

    /// "exited with status 3", "was killed by signal 9".
    static func describe(status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was killed by signal \(signal)"
    }
}
