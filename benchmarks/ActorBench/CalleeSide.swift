import Foundation
import Logging
import WeftActors
import WeftCore

/// The callee's half of a run: its IO runtime pinned to CPU 1, the raw echo listener, its
/// actor system, and the two echo actors (one bound to its IO thread, one on the global
/// executor). Lives in the caller's process, or alone in a process of its own
/// (`--callee-of`), which prints `ready PINNED PLAIN` (the actors' keys) and serves until
/// its standard input ends.
final class CalleeSide {
    let runtime: IORuntime
    let system: WeftActorSystem
    let rawListener: any TransportListener
    let pinned: PinnedEcho
    let plain: Echo

    init(layout: BenchLayout, progress: ProgressMode) throws {
        runtime = try IORuntime(progress: progress, placement: IOThreadPlacement(cpus: [1]), name: "bench-callee")
        let context = TransportContext(runtime: runtime, logger: benchLogger)
        rawListener = try layout.makeTransport(context).listen(at: layout.raw, options: ConnectionOptions()) { _ in
            EchoHandler()
        }
        system = try WeftActorSystem(
            WeftActorSystemConfiguration(node: "callee", membership: Membership(layout.members)),
            transport: layout.makeTransport(context), logger: benchLogger)
        pinned = PinnedEcho(executor: IOThreadExecutor.for(runtime.threads[0]), actorSystem: system)
        plain = Echo(actorSystem: system)
    }

    func shutdown() {
        rawListener.close()
        system.shutdown()
        usleep(20_000)
        runtime.shutdown()
    }

    /// The process of a callee started with `--callee-of`: serves until stdin ends.
    static func serve(layout: BenchLayout, progress: ProgressMode) throws -> Never {
        let side = try CalleeSide(layout: layout, progress: progress)
        FileHandle.standardOutput.write(Data("ready \(side.pinned.id.key) \(side.plain.id.key)\n".utf8))
        while readLine() != nil {}
        side.shutdown()
        exit(0)
    }
}

/// A callee in a process of its own, started from this executable.
final class CalleeProcess {
    let process = Process()
    private let input = Pipe()
    let pinnedKey: String
    let plainKey: String

    init(layout: BenchLayout, progress: ProgressMode) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["--callee-of", layout.encoded, "--progress", progress.rawValue]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 0x0A {
            line.append(first)
        }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ").map(String.init)
        guard words.count == 3, words[0] == "ready" else {
            process.terminate()
            throw BenchFailure("the callee process did not get ready (it said '\(String(decoding: line, as: UTF8.self))')")
        }
        pinnedKey = words[1]
        plainKey = words[2]
    }

    func shutdown() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let benchLogger: Logger = {
    var logger = Logger(label: "weft.actor-bench")
    logger.logLevel = .critical
    return logger
}()
