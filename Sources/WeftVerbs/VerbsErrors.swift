import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The verbs transport's one-sentence errors for what users can fix.
enum VerbsErrors {
    /// Registration failed under a locked-memory limit: say what the limit is and how to raise it.
    static func memoryRegistration(bytes: Int, device: String, error: SystemError) -> TransportError {
        let limit = VerbsSyscalls.effectiveMemlockLimit()
        guard error.errno == ENOMEM || error.errno == EPERM || error.errno == EAGAIN || limit != nil else {
            return .unavailable("registering \(bytes >> 10) KiB of memory with \(device) failed: \(error)")
        }
        let shown = limit.map { "\($0 >> 10) KiB" } ?? "unknown"
        return .unavailable(
            "cannot register \(bytes >> 10) KiB of memory with \(device) because the locked-memory limit"
                + " (RLIMIT_MEMLOCK, `ulimit -l`) is \(shown): raise it with `ulimit -l unlimited`"
                + " or a memlock line in /etc/security/limits.conf, LimitMEMLOCK=infinity in a systemd unit,"
                + " and under Slurm LimitMEMLOCK=infinity for slurmd plus PropagateResourceLimitsExcept=MEMLOCK"
                + " in slurm.conf.")
    }

    /// A completion that failed, as one sentence (port state included when the link is the cause).
    static func completionFailure(status: String, portState: String?, device: String, peer: String) -> String {
        if let portState, portState != "ACTIVE" {
            return "the port of \(device) is \(portState): its link went down (check `ip link` / the cable),"
                + " so the connection to \(peer) failed (\(status))"
        }
        switch status {
        case let text where text.contains("retry counter exceeded") && !text.contains("RNR"):
            return "the peer at \(peer) stopped answering: the queue pair gave up after its retries (\(status))"
        case let text where text.contains("RNR"):
            return "the peer at \(peer) had no receive buffer posted (receiver not ready): \(status)"
        default:
            return "the queue pair to \(peer) went into the error state: \(status)"
        }
    }
}
