import Foundation

/// A `weft` child process for tests that need a real second process (peer death, SIGKILL).
public final class PeerProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Pipe()
    public private(set) var address = ""

    /// The `weft` executable next to the test bundle (`swift build` puts both in one folder).
    public static var weftExecutable: URL {
        if let path = ProcessInfo.processInfo.environment["WEFT_BIN"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("weft").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("weft")
    }

    /// Starts `weft ARGUMENTS`; with `waitForListening`, returns once it printed `listening on ADDRESS`.
    public init(_ arguments: [String], waitForListening: Bool = true) throws {
        process.executableURL = Self.weftExecutable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitForListening else { return }
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(0x0A) {
            let chunk = handle.availableData
            if chunk.isEmpty { throw PeerProcessError("weft \(arguments.joined(separator: " ")) exited before listening") }
            line.append(chunk)
        }
        let text = String(decoding: line.prefix { $0 != 0x0A }, as: UTF8.self)
        guard let range = text.range(of: "listening on ") else { throw PeerProcessError("unexpected first line: \(text)") }
        address = String(text[range.upperBound...])
    }

    public func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill() }
    }
}

public struct PeerProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
