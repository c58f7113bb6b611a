import ArgumentParser
import Synchronization
import Weft
import WeftCore

/// `weft discover`: prints the peers a transport's discovery sees come and go.
struct Discover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print Weft listeners as they appear and disappear, found by the transport itself (TIPC's topology server).",
        discussion: """
            Prints one line per change, `up ADDRESS` or `down ADDRESS`, with the seconds since the \
            start (`--timestamps`), until --until-down sees its address go down, --timeout runs out, \
            or SIGINT. No member list, seed or address is needed: a listener's publication is its \
            peer-up, its withdrawal (process gone, listener closed, node lost) its peer-down.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Stop with status 0 once this address has gone down.", valueName: "address"))
    var untilDown: String?

    @Option(help: ArgumentHelp("Stop after this many seconds (status 1 when --until-down did not happen).", valueName: "seconds"))
    var timeout: Int = 3600

    @Flag(help: "Prefix each line with the seconds since the start.")
    var timestamps = false

    mutating func run() async throws {
        let options = self
        try await reportingFailures { try await options.discover() }
    }

    private func discover() async throws {
        Wakeup.installSignalHandlers()
        let loaded = try await common.load()
        LogSetup.bootstrap(level: loaded.configuration.logLevel)
        let node = try WeftNode.start(loaded.configuration, label: "weft-discover")
        defer { node.shutdown() }
        guard let discovering = node.transport as? any DiscoveringTransport else {
            throw CommandFailure.usage("the \(node.descriptor.name) transport has no discovery (tipc has)")
        }
        let discovery = discovering.makeDiscovery()
        let started = monotonicNanoseconds()
        let sawDown = Atomic<Bool>(false)
        let target = untilDown
        let stamped = timestamps
        try discovery.start { event in
            let (word, peer): (String, DiscoveredPeer)
            switch event {
            case .up(let found): (word, peer) = ("up", found)
            case .down(let lost): (word, peer) = ("down", lost)
            }
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            Output.line(stamped ? "\((seconds * 1000).rounded() / 1000) \(word) \(peer.address)" : "\(word) \(peer.address)")
            if word == "down" && peer.address == target {
                sawDown.store(true, ordering: .releasing)
                Wakeup.post()
            }
        }
        defer { discovery.stop() }
        let deadline = started + UInt64(timeout) * 1_000_000_000
        while !Wakeup.wasInterrupted && !sawDown.load(ordering: .acquiring) && monotonicNanoseconds() < deadline {
            Wakeup.wait(milliseconds: 200)
        }
        if untilDown != nil && !sawDown.load(ordering: .acquiring) {
            throw CommandFailure.timedOut("\(untilDown!) did not go down within \(timeout) s")
        }
    }
}
