import Foundation
import WeftActors
import WeftCore

/// weft-actor-bench: two IO runtimes pinned to CPU 0 (caller) and CPU 1 (callee), joined by
/// shared memory or TCP, in one process or two. Measures, interleaved round by round, the
/// raw round trip and the empty distributed call's round trip over the same transport;
/// then calls per second with 1, 8 and 64 concurrent callers; then the cost of encoding
/// and decoding a small Codable value with Weft's binary coder, JSON and property lists.
/// Never asserts: prints figures and ratios.
let options = BenchOptions(Array(CommandLine.arguments.dropFirst()))
if let calleeOf = options.calleeOf { try CalleeSide.serve(layout: BenchLayout(decoding: calleeOf), progress: options.progress) }
if !options.json { print(MachineReport.header(options)) }

let bench = try ActorBenchSetup(
    layout: BenchLayout.make(transport: options.transport), progress: options.progress,
    separateProcess: options.processes == 2)
defer { bench.shutdown() }

// Warm up every path once.
_ = await bench.rawRoundTrip(count: 20_000)
for placement in options.placements { _ = try await bench.callRoundTrip(count: 2_000, placement: placement) }

func callCount(_ placement: CallPlacement) -> Int { placement == .ioThreads ? options.calls : options.calls / 4 }

var raw: [Double] = []
var calls: [CallPlacement: [Double]] = [:]
for _ in 0..<options.rounds {
    raw.append(await bench.rawRoundTrip(count: options.roundTrips))
    for placement in options.placements {
        calls[placement, default: []].append(try await bench.callRoundTrip(count: callCount(placement), placement: placement))
    }
}
let rawMedian = median(raw)
let callerCounts = [1, 8, 64]
var callsPerSecond: [CallPlacement: [Double]] = [:]
for placement in options.placements {
    for callers in callerCounts {
        let elapsed = try await bench.throughput(total: callCount(placement), callers: callers, placement: placement)
        callsPerSecond[placement, default: []].append(Double(callCount(placement)) / (perIteration(elapsed, 1) / 1e9))
    }
}

if options.json {
    let rtt = options.placements.map { String(format: "\"%@\": %.1f", $0.key, median(calls[$0]!)) }
    let rates = options.placements.map { placement in
        let byCallers = zip(callerCounts, callsPerSecond[placement]!).map { String(format: "\"%d\": %.0f", $0, $1) }
        return "\"\(placement.key)\": {" + byCallers.joined(separator: ", ") + "}"
    }
    print(
        String(
            format: "{\"transport\": \"%@\", \"processes\": %d, \"raw_rtt_ns\": %.1f, \"rounds\": %d, ", options.transport,
            options.processes, rawMedian, raw.count)
            + "\"call_rtt_ns\": {" + rtt.joined(separator: ", ") + "}, "
            + "\"calls_per_s\": {" + rates.joined(separator: ", ") + "}}")
    bench.shutdown()
    exit(0)
}
print(
    String(
        format: "raw %@ round trip (request/response frames, IO-thread handlers): median %.3f µs of %d runs",
        options.transport, rawMedian / 1000, raw.count))
for placement in options.placements {
    let value = median(calls[placement]!)
    let ratio = value / rawMedian
    var line = String(
        format: "empty distributed call round trip, %@: median %.3f µs = %.1f× raw", placement.rawValue, value / 1000, ratio)
    if placement == .ioThreads { line += ratio <= 3 ? " (target ≤ 3×: met)" : " (target ≤ 3×: NOT met)" }
    line += String(format: "; %.1f jobs queued on IO threads per call", try await bench.jobsPerCall(placement: placement))
    print(line)
}
for placement in options.placements {
    let parts = zip(callerCounts, callsPerSecond[placement]!).map { String(format: "%d: %.0f", $0, $1) }
    print("calls/s by concurrent callers, \(placement.rawValue): " + parts.joined(separator: ", "))
}

let serialization = try measureSerialization(iterations: options.codingIterations)
let binary = serialization[0].nanoseconds
for result in serialization {
    print(
        String(
            format: "encode+decode of a small struct, %@: %.0f ns (%d bytes)%@", result.coder, result.nanoseconds, result.bytes,
            result.nanoseconds == binary ? "" : String(format: " = %.1f× the binary coder", result.nanoseconds / binary)))
}
print(MachineReport.loadLine(prefix: "load average after the run"))

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}
