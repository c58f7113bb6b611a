#if canImport(Glibc)
    import Glibc
#endif

/// Monotonic nanoseconds (CLOCK_MONOTONIC through the vDSO: no syscall).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Online CPUs, for the human-readable report.
func onlineCPUCount() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
