import ArgumentParser
import Histogram
import WeftCore
import WeftNUMA

/// `weft pingpong`: round-trip latency between this process and a `weft serve`.
struct PingPong: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pingpong",
        abstract: "Measure round-trip latency: one request in flight, echoed by a peer.",
        discussion: """
            Without --connect it starts its peer itself (`weft serve` from this executable, same \
            transport and progress, on a fresh local address) and stops it at the end. The loop \
            runs on this side's IO thread: each response records its round-trip time and sends \
            the next request from inside the receive handler. Percentiles come from an HDR \
            histogram of the measured round trips (after --warmup); msgs_per_sec is round trips \
            per second. With --batch K the clock is read once per K round trips and the \
            percentiles are over batch means (as the floor probe measures), so the clock's own \
            cost (20-70 ns a reading here) stays out of sub-microsecond figures. --json prints one \
            object: transport, size, count, batch, progress, rtt_p50_ns, rtt_p99_ns, rtt_p999_ns, \
            msgs_per_sec, placement (node, io_cpus, device, reason).
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var measurement: PeerRunOptions

    @Option(help: ArgumentHelp("Measured round trips.", valueName: "n"))
    var count: Int = 100_000

    @Option(help: ArgumentHelp("Round trips before measuring.", valueName: "n"))
    var warmup: Int = 1_000

    @Option(help: ArgumentHelp("Round trips per clock reading (--count must be a multiple).", valueName: "k"))
    var batch: Int = 1

    @Option(help: ArgumentHelp("Pin this side's IO thread to this CPU (sets io-cpus).", valueName: "n"))
    var cpu: Int?

    /// Diagnostic for the lab suites: adds the transport's own counters to --json.
    @Flag(name: .customLong("transport-statistics"), help: .hidden)
    var transportStatistics = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        guard batch >= 1, count % batch == 0 else {
            throw ValidationError("--batch must be at least 1 and divide --count (\(count))")
        }
    }

    mutating func run() async throws {
        let options = self
        try await reportingFailures { try await options.measure() }
    }

    private func measure() async throws {
        Wakeup.installSignalHandlers()
        let loaded = try await common.load(overriding: cpu.map { [ConfigKeys.ioCPUs.key: String($0)] } ?? [:])
        LogSetup.bootstrap(level: loaded.configuration.logLevel)
        let client = PingPongClient(size: measurement.size, warmup: warmup, count: count, batch: batch)
        let session = try ClientSession(
            configuration: loaded.configuration, common: common, connect: measurement.connect, peerCPU: measurement.peerCPU,
            timeoutSeconds: measurement.timeout, handler: client, tag: "pp")
        defer { session.finish() }
        client.start(on: session.connection)
        try session.wait(
            until: { client.currentState != .running }, what: "the ping-pong did not finish within \(measurement.timeout) s")
        if client.currentState == .failed { throw CommandFailure.failed(client.failure ?? "the ping-pong failed") }
        let statistics =
            transportStatistics
            ? TransportStatisticsReport.json(for: session.connection, received: client.lastPayloadAddress) : nil
        report(
            client, transport: session.node.descriptor.name, progress: session.node.configuration.progress,
            placement: session.node.placement, statistics: statistics)
    }

    private func report(
        _ client: PingPongClient, transport: String, progress: ProgressMode, placement: PlacementPlan, statistics: JSON?
    ) {
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
        // A batch's mean round trip, rounded to the nanosecond.
        let half = UInt64(batch / 2)
        for index in 0..<client.sampleCount { _ = histogram.record(max((client.samples[index] + half) / UInt64(batch), 1)) }
        let p50 = histogram.valueAtPercentile(50)
        let p99 = histogram.valueAtPercentile(99)
        let p999 = histogram.valueAtPercentile(99.9)
        let seconds = Double(client.measuredEnd &- client.measuredStart) / 1e9
        let rate = seconds > 0 ? Double(count) / seconds : 0
        if measurement.json {
            Output.line(
                JSON.object(
                    [
                        ("transport", .string(transport)), ("size", .integer(measurement.size)), ("count", .integer(count)),
                        ("batch", .integer(batch)), ("progress", .string(progress.rawValue)), ("rtt_p50_ns", .integer(Int(p50))),
                        ("rtt_p99_ns", .integer(Int(p99))), ("rtt_p999_ns", .integer(Int(p999))),
                        ("msgs_per_sec", .number((rate * 10).rounded() / 10)),
                        ("placement", PlacementReport.json(.success(placement))),
                    ] + (statistics.map { [("transport_statistics", $0)] } ?? [])
                ).text)
            return
        }
        Output.line(
            """
            pingpong over \(transport), progress \(progress.rawValue), \(measurement.size)-byte payloads, \(count) round trips after \(warmup) warm-up (\(onlineCPUCount()) CPUs online)\(batch > 1 ? ", timed in batches of \(batch) (percentiles of batch means)" : "")
              round trip p50    \(p50) ns   (one way \(p50 / 2) ns)
              round trip p99    \(p99) ns
              round trip p99.9  \(p999) ns
              round trips/s     \(Int(rate.rounded()))
              placement         \(placement)
            """)
    }
}
