import ArgumentParser

/// The `weft` command: transports, a test node and the measurements.
@main
struct Weft: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "One zero-copy wire protocol over shared memory, TCP, TIPC and InfiniBand verbs.",
        discussion: """
            Every command takes the configuration options (see `weft info --config-keys`); \
            precedence: flag > WEFT_* environment > config file (--config or WEFT_CONFIG) > default.
            Errors print `weft: <sentence>`; exit status 2 for configuration and transport problems, \
            1 when a run fails.
            """,
        subcommands: [Info.self, Serve.self, PingPong.self, Rate.self, Discover.self])
}
