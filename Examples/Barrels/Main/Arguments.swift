import WeftCore

/// The command line: every configuration key as its flag (`--transport`, `--progress`, …,
/// from `ConfigKeys`, exactly as the `weft` CLI spells them), `--config FILE`, and the
/// example's own options.
struct Arguments {
    /// Configuration values set by flags, keyed by table key.
    var configFlags: [String: String] = [:]
    var configFile: String?
    var processes = 2
    var timeoutSeconds = 60
    /// Set in the members the program starts: which member this process is, and all of them.
    var memberIndex: Int?
    var members: String?
    var help = false

    static let usage = """
        usage: barrels [--processes N] [--timeout-seconds S] [--transport shm|tcp|auto] [--config FILE] [config flags…]

        Plays the barrels game: Player "Bob" shoots barrel-1 … barrel-30 until each is destroyed,
        with the players and barrels spread over N processes (default 2) that this program starts,
        over the chosen transport. Prints the score and exits 0 when it matches the rules.
        Config flags (flag > WEFT_* > config file > default):
        """ + "\n" + ConfigKeys.all.map { "  \($0.flag) <value>  \($0.summary)" }.joined(separator: "\n")

    init(_ arguments: [String]) throws(ArgumentError) {
        let keysByFlag = Dictionary(uniqueKeysWithValues: ConfigKeys.all.map { ($0.flag, $0.key) })
        var index = 0
        func value(_ flag: String) throws(ArgumentError) -> String {
            index += 1
            guard index < arguments.count else { throw ArgumentError("\(flag) needs a value") }
            return arguments[index]
        }
        func number(_ flag: String, _ range: ClosedRange<Int>) throws(ArgumentError) -> Int {
            let text = try value(flag)
            guard let parsed = Int(text), range.contains(parsed) else {
                throw ArgumentError("\(flag) takes a whole number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
            }
            return parsed
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--help", "-h": help = true
            case "--config": configFile = try value(argument)
            case "--processes": processes = try number(argument, 2...16)
            case "--timeout-seconds": timeoutSeconds = try number(argument, 1...3600)
            case "--member-index": memberIndex = try number(argument, 0...15)
            case "--members": members = try value(argument)
            default:
                guard let key = keysByFlag[argument] else { throw ArgumentError("unknown option '\(argument)' (see --help)") }
                configFlags[key] = try value(argument)
            }
            index += 1
        }
    }

    /// The configuration flags again, for the members this process starts.
    var forwarded: [String] {
        var result: [String] = []
        for spec in ConfigKeys.all { if let value = configFlags[spec.key] { result += [spec.flag, value] } }
        if let configFile { result += ["--config", configFile] }
        return result
    }
}

struct ArgumentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
