import Synchronization

/// Where IO threads run. The NUMA planner fills `cpus` from the device's node.
public struct IOThreadPlacement: Sendable, Equatable {
    /// CPUs to pin IO threads to, one per thread in order; empty: not pinned.
    public var cpus: [Int]

    public init(cpus: [Int] = []) { self.cpus = cpus }
}

/// The IO threads of one process. Connections are spread over them round-robin;
/// each connection stays on its thread for life.
public final class IORuntime: Sendable {
    public let threads: [IOThread]
    public let progress: ProgressMode
    private let nextIndex = Atomic<Int>(0)

    public init(
        threadCount: Int = 1, progress: ProgressMode = .adaptive, spinWindow: Duration = .microseconds(100),
        placement: IOThreadPlacement = IOThreadPlacement(), name: String = "weft-io"
    ) throws(SystemError) {
        precondition(threadCount >= 1, "at least one IO thread")
        var threads: [IOThread] = []
        for index in 0..<threadCount {
            let cpu = index < placement.cpus.count ? placement.cpus[index] : nil
            threads.append(
                try IOThread(name: "\(name)-\(index)", progress: progress, spinWindow: spinWindow, cpu: cpu))
        }
        self.threads = threads
        self.progress = progress
    }

    /// The thread the next connection goes to.
    public func nextThread() -> IOThread {
        threads[nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue % threads.count]
    }

    public func shutdown() {
        for thread in threads { thread.shutdown() }
    }
}
