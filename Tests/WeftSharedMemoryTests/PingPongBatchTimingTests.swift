import Foundation
import Testing
import WeftConformance

/// `weft pingpong --batch K`: the clock is read once per K round trips, and the figures are
/// batch means (the floor probe's method).
@Suite(.serialized) struct PingPongBatchTimingTests {
    private func runWeft(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        let output = Pipe()
        let errors = Pipe()
        process.executableURL = PeerProcess.weftExecutable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, printed, complaint)
    }

    @Test func batchesAreTimedAndReported() throws {
        let run = try runWeft([
            "pingpong", "--transport", "shm", "--progress", "sleep", "--count", "1000", "--batch", "50", "--warmup", "5",
            "--timeout", "20", "--json",
        ])
        #expect(run.status == 0, "\(run.errors)")
        let line = try #require(run.output.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["batch"] as? Int == 50)
        #expect(object["count"] as? Int == 1000)
        // A batch mean, not a batch's total (50 round trips) nor a mean divided twice (1/50 of
        // one): within 10× of the mean round trip at the measured rate. The bound is loose on
        // purpose: under a sanitizer on two busy cores one slow batch moves the mean by 3×.
        let median = try #require(object["rtt_p50_ns"] as? Int)
        let rate = try #require(object["msgs_per_sec"] as? Double)
        let meanRoundTrip = 1e9 / rate
        #expect(
            Double(median) > meanRoundTrip / 10 && Double(median) < meanRoundTrip * 10,
            "\(median) ns against \(meanRoundTrip)")
    }

    @Test func aBatchThatDoesNotDivideTheCountIsRefused() throws {
        let run = try runWeft(["pingpong", "--transport", "shm", "--count", "10", "--batch", "7"])
        #expect(run.status != 0)
        #expect(run.errors.contains("--batch must be at least 1 and divide --count (10)"))
    }
}
