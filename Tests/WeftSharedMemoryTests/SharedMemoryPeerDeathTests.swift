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

    /// The survivor lets go of the region once its peer is dead and the connection gone:
    /// the memfd's inode leaves this process's mappings and descriptors, so the kernel can
    /// free the memory (a memfd never appears in /dev/shm: only its inode tells).
    @Test func survivorReleasesTheRegionAfterThePeerDies() throws {
        let before = Self.regionInodes()
        let peer = try PeerProcess(["serve", "--transport", "shm", "--listen", "weft-release-\(getpid())", "--progress", "sleep"])
        let runtime = try IORuntime(progress: .sleep)
        defer { runtime.shutdown() }
        let transport = SharedMemoryTransport(context: TransportContext(runtime: runtime), ringBytes: 64 << 10)
        let replies = CollectingHandler()
        var inodes: Set<UInt64> = []
        do {
            let connection = try transport.connect(to: peer.address, options: ConnectionOptions(), handler: replies)
            try connection.send(Sequence64.bytes(1), kind: .request, correlation: 1)
            #expect(replies.wait { $0.frameCount == 1 })
            inodes = Self.regionInodes().subtracting(before)
            #expect(!inodes.isEmpty, "the connected region should be mapped here")
            peer.kill()
            #expect(replies.wait(timeout: .seconds(5)) { $0.closedConnections.count == 1 })
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while !Self.regionInodes().isDisjoint(with: inodes) && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(Self.regionInodes().isDisjoint(with: inodes), "the dead peer's region is still mapped or open here")
    }

    /// Inodes of Weft's shared-memory regions this process maps (/proc/self/maps) or holds
    /// open (/proc/self/fd).
    static func regionInodes() -> Set<UInt64> {
        var inodes = Set<UInt64>()
        let maps = procText("/proc/self/maps")
        for line in maps.split(separator: "\n") where line.contains("/memfd:weft-shm") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count > 4, let inode = UInt64(fields[4]) { inodes.insert(inode) }
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            let path = "/proc/self/fd/\(entry)"
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path),
                target.contains("memfd:weft-shm")
            else { continue }
            var status = stat()
            if stat(path, &status) == 0 { inodes.insert(UInt64(status.st_ino)) }
        }
        return inodes
    }

    /// A /proc file read to its end (`String(contentsOfFile:)` stops after the first read,
    /// about 4 KiB, since /proc files report size 0).
    static func procText(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return (try? handle.readToEnd()).flatMap { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Both ends killed mid-traffic: no socket name left bound, and the name is free again.
    @Test func bothSidesKilledLeaveNothingBehind() throws {
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
        let sockets = Self.procText("/proc/net/unix")
        #expect(!sockets.contains("@\(name)"))
        // The name is free again: a new listener can take it.
        let runtime = try IORuntime(progress: .sleep)
        defer { runtime.shutdown() }
        let transport = SharedMemoryTransport(context: TransportContext(runtime: runtime), ringBytes: 64 << 10)
        let listener = try transport.listen(at: name, options: ConnectionOptions()) { _ in CollectingHandler() }
        listener.close()
    }
}
