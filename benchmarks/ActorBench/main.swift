import Foundation
import Logging
import WeftActors
import WeftCore
import WeftSharedMemory

/// weft-actor-bench: in one process, two IO runtimes pinned to CPU 0 (caller) and CPU 1
/// (callee) joined by shared memory. Measures, interleaved round by round, the raw shm
/// round trip and the empty distributed call's round trip over the same transport;
/// then calls per second with 1, 8 and 64 concurrent callers; then the cost of encoding
/// and decoding a small Codable value with Weft's binary coder, JSON and property lists.
/// Never asserts: prints figures and ratios.
let options = BenchOptions(Array(CommandLine.arguments.dropFirst()))
if !options.json { print(MachineReport.header(progress: options.progress)) }

let bench = try ActorBenchSetup(progress: options.progress)
defer { bench.shutdown() }

// Warm up every path once.
_ = await bench.rawRoundTrip(count: 20_000)
for placement in options.placements { _ = try await bench.callRoundTrip(count: 2_000, placement: placement) }

var raw: [Double] = []
var calls: [CallPlacement: [Double]] = [:]
for _ in 0..<options.rounds {
    raw.append(await bench.rawRoundTrip(count: options.roundTrips))
    for placement in options.placements {
        let count = placement == .ioThreads ? options.calls : options.calls / 4
        calls[placement, default: []].append(try await bench.callRoundTrip(count: count, placement: placement))
    }
}
let rawMedian = median(raw)
if options.json {
    let fields = options.placements.map { String(format: "\"%@\": %.1f", $0.key, median(calls[$0]!)) }
    print(
        String(format: "{\"raw_rtt_ns\": %.1f, \"rounds\": %d, \"call_rtt_ns\": {", rawMedian, raw.count)
            + fields.joined(separator: ", ") + "}}")
    bench.shutdown()
    exit(0)
}
print(
    String(
        format: "raw shm round trip (request/response frames, IO-thread handlers): median %.3f µs of %d runs", rawMedian / 1000,
        raw.count))
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
    var parts: [String] = []
    for callers in [1, 8, 64] {
        let total = placement == .ioThreads ? options.calls : options.calls / 4
        let elapsed = try await bench.throughput(total: total, callers: callers, placement: placement)
        parts.append(String(format: "%d: %.0f", callers, Double(total) / (perIteration(elapsed, 1) / 1e9)))
    }
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
