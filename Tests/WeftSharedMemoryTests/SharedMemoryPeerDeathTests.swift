import Foundation
import Testing
import WeftConformance
import WeftCore
import WeftSharedMemory

/// Real second processes, killed with SIGKILL.
@Suite(.serialized) struct SharedMemoryPeerDeathTests {
    /// The survivor hears `peerLost` (no hang), and sends fail instead of blocking.
    @Test func peerKilledMidStream() throws {
        let name = "weft-death-\(getpid())"
        let peer = try PeerProcess(["serve", "--transport", "shm", "--listen", name, "--progress", "sleep"])
        let runtime = try IORuntime(progress: .adaptive)
        defer { runtime.shutdown() }
        let transport = SharedMemoryTransport(context: TransportContext(runtime: runtime), ringBytes: 256 << 10)
        let replies = CollectingHandler()
        let connection = try transport.connect(to: peer.address, options: ConnectionOptions(), handler: replies)
        for index in 0..<100 {
            try connection.send(Sequence64.bytes(UInt64(index)), kind: .request, correlation: UInt64(index + 1))
        }
        #expect(replies.wait { $0.frameCount == 100 })
        peer.kill()
        #expect(replies.wait(timeout: .seconds(5)) { $0.closedConnections.count == 1 })
        guard case .peerLost? = replies.closedConnections[connection.id] ?? nil else {
            Issue.record("expected peerLost, got \(String(describing: replies.closedConnections[connection.id]))")
            return
        }
        #expect(throws: TransportError.self) { try connection.send([1], kind: .data) }
    }

    /// Both ends killed mid-traffic: nothing in /dev/shm, no socket name left bound.
    @Test func bothSidesKilledLeaveNothingBehind() throws {
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
        let name = "weft-kill-\(getpid())"
        let server = try PeerProcess(["serve", "--transport", "shm", "--listen", name, "--progress", "sleep"])
        let client = try PeerProcess(
            [
                "pingpong", "--transport", "shm", "--connect", server.address, "--size", "64", "--count", "100000000",
                "--progress", "sleep",
            ], waitForListening: false)
        usleep(500_000)
        #expect(client.process.isRunning && server.process.isRunning)
        client.kill()
        server.kill()
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
        #expect(after.subtracting(before).isEmpty)
        let sockets = (try? String(contentsOfFile: "/proc/net/unix", encoding: .utf8)) ?? ""
        #expect(!sockets.contains("@\(name)"))
        // The name is free again: a new listener can take it.
        let runtime = try IORuntime(progress: .sleep)
        defer { runtime.shutdown() }
        let transport = SharedMemoryTransport(context: TransportContext(runtime: runtime), ringBytes: 64 << 10)
        let listener = try transport.listen(at: name, options: ConnectionOptions()) { _ in CollectingHandler() }
        listener.close()
    }
}
