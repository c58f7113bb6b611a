import WeftCore

/// `--progress spin|adaptive|sleep` (default spin), `--rounds R` (5), `--round-trips N`
/// (raw round trips per round, 200000), `--calls N` (calls per round, 50000),
/// `--coding-iterations N` (100000), `--placements io|global|both` (both), `--json` (only
/// the round trips, as one JSON object: what benchmarks/compare reads).
struct BenchOptions {
    var json = false
    var progress = ProgressMode.spin
    var rounds = 5
    var roundTrips = 200_000
    var calls = 50_000
    var codingIterations = 100_000
    var placements = CallPlacement.allCases

    init(_ arguments: [String]) {
        json = arguments.contains("--json")
        let arguments = arguments.filter { $0 != "--json" }
        var index = 0
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "--progress": progress = ProgressMode(rawValue: value) ?? progress
            case "--rounds": rounds = max(Int(value) ?? rounds, 1)
            case "--round-trips": roundTrips = max(Int(value) ?? roundTrips, 1)
            case "--calls": calls = max(Int(value) ?? calls, 64)
            case "--coding-iterations": codingIterations = max(Int(value) ?? codingIterations, 1)
            case "--placements":
                placements = value == "io" ? [.ioThreads] : value == "global" ? [.globalExecutor] : CallPlacement.allCases
            default: break
            }
            index += 2
        }
    }
}
