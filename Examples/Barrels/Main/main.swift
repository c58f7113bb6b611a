#if canImport(Glibc)
    import Glibc
#endif

/// `barrels`: the example from Epic Server's README over Weft (see Game.swift), or, with
/// `--member-index`, one of the members the first process starts.
func fail(_ sentence: String) -> Never {
    writeLine("barrels: \(sentence)", to: 2)
    exit(1)
}

/// Writes `text` and a newline straight to `descriptor` (no stdio buffering to lose on exit).
func writeLine(_ text: String, to descriptor: Int32) {
    var bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}

let arguments: Arguments
do { arguments = try Arguments(Array(CommandLine.arguments.dropFirst())) } catch { fail("\(error)") }
if arguments.help {
    writeLine(Arguments.usage, to: 1)
    exit(0)
}
if let index = arguments.memberIndex {
    guard let members = arguments.members else { fail("--member-index needs --members") }
    do { try await runMember(index: index, members: members, arguments: arguments) } catch {
        fail("member \(index): \(error)")
    }
}
Watchdog.arm(seconds: arguments.timeoutSeconds)
do {
    writeLine(try await runGame(arguments), to: 1)
    exit(0)
} catch {
    fail("\(error)")
}
