import BarrelsGame
import Foundation

/// A `barrels` member process (the example's executable with `--member-index`): it serves
/// its share of the game's actors until killed or until its stdin closes.
final class BarrelsMember: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    /// The `barrels` executable next to the test bundle (`swift build` puts both in one
    /// folder), or `BARRELS_BIN`.
    static var executable: URL? {
        if let path = ProcessInfo.processInfo.environment["BARRELS_BIN"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("barrels")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        return nil
    }

    /// Starts member `index` of `addresses` over `transport`; returns once it is ready.
    init(index: Int, addresses: [String: String], transport: String) throws {
        guard let executable = Self.executable else {
            throw ClusterSetupError("no barrels executable next to the tests (build it, or set BARRELS_BIN)")
        }
        process.executableURL = executable
        process.arguments = [
            "--transport", transport, "--log-level", "critical", "--member-index", "\(index)",
            "--members", ClusterAddresses.encode(addresses),
        ]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(0x0A) {
            let chunk = handle.availableData
            if chunk.isEmpty { throw ClusterSetupError("barrels member \(index) exited before it was ready") }
            line.append(chunk)
        }
        guard String(decoding: line, as: UTF8.self).hasPrefix("ready") else {
            throw ClusterSetupError("barrels member \(index) said '\(String(decoding: line, as: UTF8.self))'")
        }
    }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}
