import ArgumentParser
import Logging
import Weft
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// `weft serve`: a node that answers, for `weft pingpong`, `weft rate` and the benchmarks.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a node that echoes requests and counts data frames until SIGINT or SIGTERM.",
        discussion: """
            Once listening it prints one line, `listening on ADDRESS`, to stdout (with the port \
            the system chose when asked for port 0), so a parent process can read where to connect.

            Every `request` on channel 0 is answered with a `response` carrying the same \
            correlation id and payload. A `request` on channel 1 starts a rate run: its payload \
            is the number of `data` frames that follow (u64, little-endian); the answer to it \
            (same correlation id, payload the count received) comes once they have all arrived.
            """)

    @OptionGroup var common: CommonOptions

    @Option(
        help: ArgumentHelp(
            "Address to listen at (shm: a name such as weft-1234; tcp: host:port, port 0 picks one). Default: a fresh local address.",
            valueName: "address"))
    var listen: String?

    @Option(help: ArgumentHelp("Pin the IO thread to this CPU (sets io-cpus, over --io-cpus).", valueName: "n"))
    var cpu: Int?

    @Option(name: .customLong("parent-pid"), help: .hidden)
    var parentProcessID: Int32?

    mutating func run() async throws {
        let options = self
        try await reportingFailures { try await options.serve() }
    }

    private func serve() async throws {
        Wakeup.installSignalHandlers()
        let loaded = try await common.load(overriding: cpu.map { [ConfigKeys.ioCPUs.key: String($0)] } ?? [:])
        LogSetup.bootstrap(level: loaded.configuration.logLevel)
        let node = try WeftNode.start(loaded.configuration, label: "weft-serve", address: listen)
        defer { node.shutdown() }
        guard
            let address = listen
                ?? BenchProtocol.localListenAddress(transport: node.descriptor.name, tag: "serve")
        else {
            throw CommandFailure.usage("give --listen ADDRESS for transport \(node.descriptor.name)")
        }
        let statistics = ServeStatistics()
        let logger = node.logger
        let listener = try node.transport.listen(at: address, options: ConnectionOptions()) { peer in
            ServeHandler(peer: peer, statistics: statistics, logger: logger)
        }
        defer { listener.close() }
        Output.line("listening on \(listener.address)")
        logger.info(
            "serving \(node.descriptor.name) at \(listener.address), progress \(node.configuration.progress.rawValue)")
        while !Wakeup.wasInterrupted {
            if let parent = parentProcessID, getppid() != parent {
                logger.info("the parent process \(parent) is gone; stopping")
                break
            }
            Wakeup.wait(milliseconds: 500)
        }
        logger.info("stopping; served \(statistics.connections.load(ordering: .relaxed)) connections")
    }
}
