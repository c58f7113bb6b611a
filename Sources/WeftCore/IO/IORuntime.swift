import Synchronization

/// Where IO threads run and where buffers come from. `io-cpus` fills it directly; otherwise
/// the NUMA planner (WeftNUMA) fills it from the device's node before the threads start.
public struct IOThreadPlacement: Sendable, Equatable {
    /// The CPUs each IO thread may run on, by thread index; a thread past the end, or with
    /// an empty set, is not pinned.
    public var threadCPUs: [[Int]]
    /// The NUMA node buffers come from (`NodeLocalMemory`); nil: wherever they are first touched.
    public var memoryNode: Int?

    /// One CPU per thread, in order (the `io-cpus` key); empty: not pinned.
    public init(cpus: [Int] = [], memoryNode: Int? = nil) {
        self.init(threadCPUs: cpus.map { [$0] }, memoryNode: memoryNode)
    }

    public init(threadCPUs: [[Int]], memoryNode: Int? = nil) {
        self.threadCPUs = threadCPUs
        self.memoryNode = memoryNode
    }

    /// The CPUs of thread `index`; empty: not pinned.
    public func cpus(forThread index: Int) -> [Int] { index < threadCPUs.count ? threadCPUs[index] : [] }
}

/// The IO threads of one process. Connections are spread over them round-robin;
/// each connection stays on its thread for life.
public final class IORuntime: Sendable {
    public let threads: [IOThread]
    public let progress: ProgressMode
    /// Where the threads run and which node buffers come from (`memoryNode`).
    public let placement: IOThreadPlacement
    private let nextIndex = Atomic<Int>(0)

    /// Starts the threads, each pinned before it runs anything. A CPU outside this
    /// process's cpuset, or a pinning the kernel refuses, throws: nothing is left running.
    public init(
        threadCount: Int = 1, progress: ProgressMode = .adaptive, spinWindow: Duration = .microseconds(100),
        spinWindowLimit: Duration? = nil,
        placement: IOThreadPlacement = IOThreadPlacement(), name: String = "weft-io"
    ) throws(PlacementError) {
        precondition(threadCount >= 1, "at least one IO thread")
        let wanted = placement.threadCPUs.prefix(threadCount).flatMap { $0 }
        if !wanted.isEmpty {
            let allowed: [Int]
            do { allowed = try ThreadAffinity.current() } catch { throw .threadStart(error) }
            if let outside = wanted.first(where: { !allowed.contains($0) }) {
                throw .cpuNotAllowed(cpu: outside, allowed: allowed)
            }
        }
        var threads: [IOThread] = []
        for index in 0..<threadCount {
            do {
                threads.append(
                    try IOThread(
                        name: "\(name)-\(index)", progress: progress, spinWindow: spinWindow, spinWindowLimit: spinWindowLimit,
                        affinity: placement.cpus(forThread: index)))
            } catch {
                for thread in threads { thread.shutdown() }
                throw error
            }
        }
        self.threads = threads
        self.progress = progress
        self.placement = placement
    }

    /// The thread the next connection goes to.
    public func nextThread() -> IOThread {
        threads[nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue % threads.count]
    }

    public func shutdown() {
        for thread in threads { thread.shutdown() }
    }
}
