#if canImport(Glibc)
    import Glibc
#endif

/// A member process started from this executable (`/proc/self/exe`): its stdin is a pipe
/// that this process holds (when this process ends, the member reads end-of-file and
/// stops), its stdout a pipe read until the member says `ready`.
final class ChildProcess {
    let processID: pid_t
    let name: String
    private var input: Int32
    private var output: Int32
    private var reaped = false
    private var buffered: [UInt8] = []

    init(name: String, arguments: [String]) throws(ClusterFailure) {
        self.name = name
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw ClusterFailure("cannot make pipes for member \(name)") }
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        let executable = "/proc/self/exe"
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(toChild[0])
        close(fromChild[1])
        guard rc == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw ClusterFailure("cannot start member \(name): \(String(cString: strerror(rc)))")
        }
        processID = child
        input = toChild[1]
        output = fromChild[0]
    }

    deinit { terminate() }

    /// Waits until the member prints a line starting with `ready`.
    func waitUntilReady(until deadline: ContinuousClock.Instant) throws(ClusterFailure) {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                if line.hasPrefix("ready") { return }
                continue
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw ClusterFailure("member \(name) did not get ready in time") }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(200, left.components.seconds * 1000 + 1)))
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 256)
            let count = read(output, &chunk, chunk.count)
            if count > 0 {
                buffered += chunk[..<count]
            } else if count == 0 {
                throw ClusterFailure("member \(name) \(endStatus(waiting: 2000)) before it was ready")
            }
        }
    }

    /// Closes the member's stdin (it shuts down in order and exits), waits up to
    /// `grace` milliseconds, then kills it (SIGKILL) and reaps it. Idempotent.
    func terminate(grace milliseconds: Int = 1000) {
        if input >= 0 {
            close(input)
            input = -1
        }
        if output >= 0 {
            close(output)
            output = -1
        }
        guard !reaped else { return }
        var status: Int32 = 0
        for _ in 0..<max(milliseconds / 10, 1) {
            if waitpid(processID, &status, WNOHANG) == processID {
                reaped = true
                return
            }
            usleep(10_000)
        }
        kill(processID, SIGKILL)
        while waitpid(processID, &status, 0) < 0 && errno == EINTR {}
        reaped = true
    }

    /// "exited with status 1", "was killed by signal 9", or "ended" after waiting up to `milliseconds`.
    private func endStatus(waiting milliseconds: Int) -> String {
        var status: Int32 = 0
        for _ in 0..<(milliseconds / 10) {
            if waitpid(processID, &status, WNOHANG) == processID {
                reaped = true
                let signal = status & 0x7f
                return signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
            }
            usleep(10_000)
        }
        return "closed its output"
    }
}

/// Why the program failed; one sentence.
struct ClusterFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
