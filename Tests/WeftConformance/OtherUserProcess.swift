import Foundation

/// This build's `weft` run as another local user (uid and gid 65534, no supplementary
/// groups) through `setpriv`, for tests of who may connect. Switching users needs root:
/// such tests are enabled only as root, and `scripts/test` lists them by name when skipped.
public enum OtherUserProcess {
    public static let uid: UInt32 = 65534
    public static let notRootReason = "needs root to run a process as another user (setpriv)"
    public static var isAvailable: Bool { geteuid() == 0 }

    /// What the other user's `weft` did.
    public struct Outcome: Sendable {
        public var status: Int32
        public var standardError: String
    }

    /// Runs `weft ARGUMENTS` as uid 65534 and waits for it.
    public static func runWeft(_ arguments: [String]) throws -> Outcome {
        try Running(arguments).wait()
    }

    /// A `weft` of the other user, started and not yet waited for.
    public final class Running: @unchecked Sendable {
        private let process = Process()
        private let errors = Pipe()
        private let folder: URL

        public init(_ arguments: [String]) throws {
            guard OtherUserProcess.isAvailable else { throw PeerProcessError(OtherUserProcess.notRootReason) }
            // The build folder may sit under a folder only root can enter: give the other user a copy.
            folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "weft-uid-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let binary = folder.appendingPathComponent("weft")
            try FileManager.default.copyItem(at: PeerProcess.weftExecutable, to: binary)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            let uid = OtherUserProcess.uid
            process.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", binary.path] + arguments
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        /// Waits for the exit and collects what it wrote to standard error.
        public func wait() -> Outcome {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return Outcome(status: process.terminationStatus, standardError: message)
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: folder)
        }
    }
}
