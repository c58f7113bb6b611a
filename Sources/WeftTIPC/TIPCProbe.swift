internal import CWeftTIPC

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the running kernel can open TIPC sockets.
public enum TIPCKernelSupport: Sendable, Equatable {
    case present
    /// One sentence: what failed and what to do about it.
    case missing(String)
}

/// Asks the kernel, for real, whether it speaks TIPC.
public enum TIPCProbe {
    /// Opens and closes one `socket(AF_TIPC, SOCK_RDM, 0)`.
    /// corresponding C function: `socket` (through `cweft_tipc_probe`).
    public static func kernelSupport() -> TIPCKernelSupport {
        let code = cweft_tipc_probe()
        if code == 0 { return .present }
        return .missing(sentence(errno: code))
    }

    /// The sentence for a failed `socket(AF_TIPC, SOCK_RDM, 0)`.
    static func sentence(errno code: Int32) -> String {
        let message = String(cString: strerror(code))
        switch code {
        case EAFNOSUPPORT, EPROTONOSUPPORT, EINVAL:
            return "the kernel has no TIPC support (socket(AF_TIPC) failed: \(message)); "
                + "try modprobe tipc, or run it in the kernel lab (scripts/kernel-lab)"
        case EPERM, EACCES:
            return "TIPC sockets are not permitted here (socket(AF_TIPC) failed: \(message)); "
                + "a seccomp filter or a security module forbids them, run it in the kernel lab (scripts/kernel-lab)"
        default:
            return "cannot open a TIPC socket (socket(AF_TIPC) failed: \(message), errno \(code))"
        }
    }
}
