import ArgumentParser
import WeftCore
import WeftNUMA

/// `weft rate`: one-way message rate from this process to a `weft serve`.
struct Rate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure one-way message rate: stream data frames as fast as back-pressure allows.",
        discussion: """
            Protocol: one `request` on channel 1 whose payload is the count N (u64, little-endian), \
            then N `data` frames of --size bytes on channel 1; the peer answers the request (same \
            correlation id, payload the count it received) once all N have arrived. The clock runs \
            from just before the request to the answer's arrival; msgs_per_sec is N over that time \
            and bytes_per_sec counts payload bytes.

            Threads: frames are reserved and committed on a sender thread of this command, pinned \
            to --cpu; on `wouldBlock` it pushes pending output out and retries (the IO thread never \
            waits). \
            This side's IO thread is left unpinned, and runs `adaptive` when --progress is `spin` (a \
            spinning receiver with nothing to receive would take a core from the sender or the \
            peer); --progress applies as given to the peer, pinned to --peer-cpu. Without \
            --connect the peer is a `weft serve` started from this executable and stopped at the end.

            --json prints one object: transport, size, count, progress, msgs_per_sec, bytes_per_sec, placement.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var measurement: PeerRunOptions

    @Option(help: ArgumentHelp("Messages to send.", valueName: "n"))
    var count: Int = 1_000_000

    @Option(help: ArgumentHelp("Pin the sending thread to this CPU.", valueName: "n"))
    var cpu: Int?

    /// Diagnostic for the lab suites: adds the transport's own counters to --json.
    @Flag(name: .customLong("transport-statistics"), help: .hidden)
    var transportStatistics = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more") }
    }

    mutating func run() async throws {
        let options = self
        try await reportingFailures { try await options.measure() }
    }

    private func measure() async throws {
        Wakeup.installSignalHandlers()
        let loaded = try await common.load()
        LogSetup.bootstrap(level: loaded.configuration.logLevel)
        let requested = loaded.configuration.progress
        var configuration = loaded.configuration
        configuration.ioCPUs = []
        if configuration.progress == .spin { configuration.progress = .adaptive }
        let client = RateClient(correlation: 1)
        let session = try ClientSession(
            configuration: configuration, common: common, connect: measurement.connect, peerCPU: measurement.peerCPU,
            timeoutSeconds: measurement.timeout, handler: client, tag: "rate")
        defer { session.finish() }
        let connection = session.connection
        // A thread of its own for the sender, pinned to --cpu: a WeftCore IOThread with no
        // sources, used as a plain pinned thread (it sleeps once the job is done).
        let senderThread = try IOThread(name: "weft-rate-send", progress: .sleep, cpu: cpu)
        defer { senderThread.shutdown() }
        let sender = RateSender(
            size: measurement.size, count: count, correlation: client.correlation, timeoutSeconds: measurement.timeout,
            connection: connection, session: session)
        let started = try senderThread.submitAndWait { () throws(CommandFailure) -> UInt64 in try sender.run() }
        try session.wait(
            until: { client.currentState != .running },
            what: "the peer did not receive \(count) messages within \(measurement.timeout) s")
        if client.currentState == .failed { throw CommandFailure.failed(client.failure ?? "the rate run failed") }
        guard client.receivedCount == UInt64(count) else {
            throw CommandFailure.failed("the peer received \(client.receivedCount) of \(count) messages")
        }
        let seconds = Double(client.finishedAt &- started) / 1e9
        let messagesPerSecond = seconds > 0 ? Double(count) / seconds : 0
        report(
            transport: session.node.descriptor.name, progress: requested, rate: messagesPerSecond, seconds: seconds,
            placement: session.node.placement,
            statistics: transportStatistics ? TransportStatisticsReport.json(for: connection, received: nil) : nil)
    }

    private func report(
        transport: String, progress: ProgressMode, rate: Double, seconds: Double, placement: PlacementPlan, statistics: JSON?
    ) {
        let bytesPerSecond = rate * Double(measurement.size)
        if measurement.json {
            Output.line(
                JSON.object(
                    [
                        ("transport", .string(transport)), ("size", .integer(measurement.size)), ("count", .integer(count)),
                        ("progress", .string(progress.rawValue)),
                        ("msgs_per_sec", .number((rate * 10).rounded() / 10)),
                        ("bytes_per_sec", .number(bytesPerSecond.rounded())),
                        ("placement", PlacementReport.json(.success(placement))),
                    ] + (statistics.map { [("transport_statistics", $0)] } ?? [])
                ).text)
            return
        }
        Output.line(
            """
            rate over \(transport), progress \(progress.rawValue) (peer), \(measurement.size)-byte payloads, \(count) messages in \(format3(seconds)) s (\(onlineCPUCount()) CPUs online)
              messages/s  \(Int(rate.rounded()))
              bytes/s     \(Int(bytesPerSecond.rounded()))
              placement   \(placement)
            """)
    }
}

/// Seconds with three decimals, without Foundation.
func format3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
