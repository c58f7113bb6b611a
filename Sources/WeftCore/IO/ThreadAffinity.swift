import CWeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The CPUs a thread may run on: read from, and applied to, the calling thread.
///
/// A thread inherits its creator's set, so what the main thread reads before the IO
/// threads start is the cpuset the whole process was given (by Slurm, a cgroup or `taskset`).
public enum ThreadAffinity {
    /// The CPUs the calling thread may run on, ascending.
    /// corresponding C function: `sched_getaffinity`.
    public static func current() throws(SystemError) -> [Int] {
        var cpus = [Int32](repeating: 0, count: 8192)
        let count = cpus.withUnsafeMutableBufferPointer { buffer in
            cweft_get_current_thread_affinity(buffer.baseAddress, Int32(buffer.count))
        }
        guard count >= 0 else { throw SystemError("sched_getaffinity", errno: errno) }
        return cpus.prefix(Int(count)).map(Int.init)
    }

    /// Lets the calling thread run on `cpus` only. corresponding C function: `sched_setaffinity`.
    public static func setCurrent(_ cpus: [Int]) throws(SystemError) {
        let values = cpus.map { Int32(clamping: $0) }
        let rc = values.withUnsafeBufferPointer { cweft_set_current_thread_affinity($0.baseAddress, Int32($0.count)) }
        guard rc == 0 else { throw SystemError("sched_setaffinity", errno: errno) }
    }
}

/// CPU lists as the kernel writes them (`0-3,8,10-11`): in sysfs, /proc/PID/status and errors.
public enum CPUList {
    /// `[0, 1, 2, 3, 8]` as `0-3,8`; an empty list as `none`.
    public static func format(_ cpus: [Int]) -> String {
        let sorted = Array(Set(cpus)).sorted()
        guard var start = sorted.first else { return "none" }
        var parts: [String] = []
        var end = start
        for cpu in sorted.dropFirst() {
            if cpu == end + 1 {
                end = cpu
                continue
            }
            parts.append(start == end ? "\(start)" : "\(start)-\(end)")
            start = cpu
            end = cpu
        }
        parts.append(start == end ? "\(start)" : "\(start)-\(end)")
        return parts.joined(separator: ",")
    }

    /// `0-3,8` as `[0, 1, 2, 3, 8]`; nil when the text is not a list. Empty text is an empty list.
    public static func parse(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for part in text.split(separator: ",") {
            let range = part.split(separator: "-", omittingEmptySubsequences: false)
            switch range.count {
            case 1:
                guard let cpu = Int(range[0].trimmingSpaces), cpu >= 0 else { return nil }
                cpus.append(cpu)
            case 2:
                guard let low = Int(range[0].trimmingSpaces), let high = Int(range[1].trimmingSpaces),
                    low >= 0, low <= high
                else { return nil }
                cpus.append(contentsOf: low...high)
            default:
                return nil
            }
        }
        return Array(Set(cpus)).sorted()
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
