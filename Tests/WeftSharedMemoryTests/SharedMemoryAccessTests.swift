import Foundation
import Testing
import WeftConformance
import WeftCore
import WeftSharedMemory

/// Shared memory admits only processes of the listener's own user.
@Suite(.serialized) struct SharedMemoryAccessTests {
    /// A process of another user is refused with one sentence; the listener keeps serving its own user.
    @Test(.enabled(if: OtherUserProcess.isAvailable, "\(OtherUserProcess.notRootReason)"))
    func anotherUserIsRefused() throws {
        let name = "weft-uid-\(getpid())"
        let server = try PeerProcess(["serve", "--transport", "shm", "--listen", name, "--progress", "sleep"])
        let stranger = try OtherUserProcess.runWeft([
            "pingpong", "--transport", "shm", "--connect", server.address, "--count", "10", "--timeout", "5",
        ])
        #expect(stranger.status != 0)
        #expect(stranger.standardError.contains("only processes of the same user"))

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
