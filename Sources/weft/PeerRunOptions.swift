import ArgumentParser

/// Options every measurement against a peer shares (`weft pingpong`, `weft rate`).
struct PeerRunOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Payload bytes per message, up to max-message-bytes (over one frame, messages are fragmented and sent off the IO thread).",
            valueName: "bytes"))
    var size: Int = 8

    @Option(help: ArgumentHelp("Connect to a running `weft serve` instead of starting one.", valueName: "address"))
    var connect: String?

    @Option(name: .customLong("peer-cpu"), help: ArgumentHelp("Pin the started peer's IO thread to this CPU.", valueName: "n"))
    var peerCPU: Int?

    @Option(help: ArgumentHelp("Give up after this many seconds, start-up included.", valueName: "seconds"))
    var timeout: Int = 120

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard size >= 0 else { throw ValidationError("--size must be 0 or more") }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 second") }
    }
}
