import Foundation
import Testing
import WeftConformance
import WeftCore
import WeftSharedMemory

/// Shared memory admits only processes of the listener's own user.
@Suite(.serialized) struct SharedMemoryAccessTests {
    /// A process of another user is refused with one sentence; the listener keeps serving its own user.
    @Test(.enabled(if: geteuid() == 0, "needs root to run a process as another user"))
    func anotherUserIsRefused() throws {
        let name = "weft-uid-\(getpid())"
        let server = try PeerProcess(["serve", "--transport", "shm", "--listen", name, "--progress", "sleep"])
        // The build folder may sit under a folder only root can enter: give the other user a copy.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("weft-uid-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = folder.appendingPathComponent("weft")
        try FileManager.default.copyItem(at: PeerProcess.weftExecutable, to: binary)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        stranger.arguments = [
            "--reuid=65534", "--regid=65534", "--clear-groups", binary.path,
            "pingpong", "--transport", "shm", "--connect", server.address, "--count", "10", "--timeout", "5",
        ]
        let errors = Pipe()
        stranger.standardError = errors
        stranger.standardOutput = FileHandle.nullDevice
        try stranger.run()
        stranger.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stranger.terminationStatus != 0)
        #expect(message.contains("only processes of the same user"))

        let runtime = try IORuntime(progress: .sleep)
        defer { runtime.shutdown() }
        let transport = SharedMemoryTransport(context: TransportContext(runtime: runtime), ringBytes: 64 << 10)
        let replies = CollectingHandler()
        let connection = try transport.connect(to: server.address, options: ConnectionOptions(), handler: replies)
        try connection.send([1, 2, 3], kind: .request, correlation: 7)
        #expect(replies.wait { $0.frameCount == 1 })
        connection.close()
    }
}
