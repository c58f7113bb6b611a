import WeftCore

/// `--progress spin|adaptive|sleep` (default spin), `--rounds R` (5), `--round-trips N`
/// (raw round trips per round, 200000), `--calls N` (calls per round, 50000),
/// `--coding-iterations N` (100000), `--placements io|global|both` (both), `--json` (only
/// the figures, as one JSON object: what benchmarks/compare reads), `--transport shm|tcp`
/// (shm), `--processes 1|2` (1: the callee in this process; 2: in a process of its own,
/// started with `--callee-of LAYOUT`).
struct BenchOptions {
    var json = false
    var transport = "shm"
    var processes = 1
    var calleeOf: String?
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
            case "--transport": transport = value == "tcp" ? "tcp" : "shm"
            case "--processes": processes = value == "2" ? 2 : 1
            case "--callee-of": calleeOf = value
            case "--placements":
                placements = value == "io" ? [.ioThreads] : value == "global" ? [.globalExecutor] : CallPlacement.allCases
            default: break
            }
            index += 2
        }
    }
}
