import CWeftSharedMemory
import Foundation
import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

/// A peer of the same user that misbehaves with the region it hands over: it cannot crash
/// the acceptor, nor make it map more than it was configured for.
@Suite(.serialized) struct SharedMemoryHostilePeerTests {
    /// The connector's own region, truncated by the peer after the handshake: the size is
    /// sealed, so the truncation fails, and the acceptor (a child process) lives on instead
    /// of dying of SIGBUS at its next touch of the pages.
    @Test func truncatingTheRegionAfterTheHandshakeCannotKillTheAcceptor() throws {
        let name = "weft-seal-\(getpid())"
        let server = try PeerProcess(["serve", "--transport", "shm", "--listen", name, "--progress", "sleep"])
        let created = try SharedMemoryRegion.create(ringBytes: 64 << 10, connectorMode: .sleep)
        defer { close(created.1) }
        let peer = try HandMadeSharedMemoryPeer(name: name, memfd: created.1)
        #expect(try peer.handshake() == .accepted)
        usleep(100_000)
        #expect(ftruncate(created.1, 0) != 0 && errno == EPERM, "the region's size was not sealed")
        peer.wakeAcceptor()
        usleep(300_000)
        #expect(server.process.isRunning, "the acceptor died")
        try expectServes(name)
        peer.close()
    }

    /// A region whose size is not sealed is refused at the hello; the listener serves on.
    @Test func unsealedRegionIsRefused() throws {
        let listening = try InProcessListener(ringBytes: 256 << 10)
        defer { listening.close() }
        let memfd = try handMadeRegion(ringBytes: 64 << 10, sealed: false)
        defer { close(memfd) }
        let peer = try HandMadeSharedMemoryPeer(name: listening.name, memfd: memfd)
        defer { peer.close() }
        #expect(try peer.handshake() == .refused)
        #expect(listening.admitted.count.load(ordering: .relaxed) == 0)
        try expectServes(listening.name)
    }

    /// A ring larger than the acceptor's own `shm.ring-bytes` is refused before it is mapped.
    @Test func ringLargerThanConfiguredIsRefused() throws {
        let listening = try InProcessListener(ringBytes: 64 << 10)
        defer { listening.close() }
        let memfd = try handMadeRegion(ringBytes: 1 << 20, sealed: true)
        defer { close(memfd) }
        let peer = try HandMadeSharedMemoryPeer(name: listening.name, memfd: memfd)
        defer { peer.close() }
        #expect(try peer.handshake() == .refused)
        #expect(listening.admitted.count.load(ordering: .relaxed) == 0)
        try expectServes(listening.name)
    }

    /// A normal client still gets an echo from the listener at `name`.
    private func expectServes(_ name: String) throws {
        let runtime = try IORuntime(progress: .sleep)
        defer { runtime.shutdown() }
        let transport = SharedMemoryTransport(context: TransportContext(runtime: runtime), ringBytes: 64 << 10)
        let replies = CollectingHandler()
        let connection = try transport.connect(to: name, options: ConnectionOptions(), handler: replies)
        try connection.send([1, 2, 3], kind: .request, correlation: 7)
        #expect(replies.wait(timeout: .seconds(5)) { $0.frameCount == 1 })
        connection.close()
    }
}

/// A listener in this process that echoes, counting the peers it admitted.
private final class InProcessListener: @unchecked Sendable {
    let runtime: IORuntime
    let listener: any TransportListener
    let name = "weft-hostile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let admitted = AdmittedPeers()

    init(ringBytes: Int) throws {
        runtime = try IORuntime(progress: .sleep)
        let transport = SharedMemoryTransport(context: TransportContext(runtime: runtime), ringBytes: ringBytes)
        let admitted = self.admitted
        listener = try transport.listen(at: name, options: ConnectionOptions()) { _ in
            admitted.count.wrappingAdd(1, ordering: .relaxed)
            return EchoHandler()
        }
    }

    func close() {
        listener.close()
        runtime.shutdown()
    }
}

private final class AdmittedPeers: Sendable {
    let count = Atomic<Int>(0)
}

/// A region laid out as a connector lays it out, sealed or not (the test keeps the memfd).
private func handMadeRegion(ringBytes: Int, sealed: Bool) throws -> Int32 {
    let fd = cweft_memfd_create("weft-test-region")
    guard fd >= 0 else { throw SystemError("memfd_create", errno: errno) }
    let size = SharedMemoryLayout.regionSize(ringBytes: ringBytes)
    guard ftruncate(fd, off_t(size)) == 0 else { throw SystemError("ftruncate", errno: errno) }
    let base = try SharedMemorySyscalls.mapShared(fd, size: size, populate: false)
    defer { munmap(base, size) }
    base.storeBytes(of: SharedMemoryLayout.magic, as: UInt32.self)
    base.storeBytes(of: SharedMemoryLayout.version, toByteOffset: 4, as: UInt32.self)
    base.storeBytes(of: UInt64(ringBytes), toByteOffset: SharedMemoryLayout.ringBytesOffset, as: UInt64.self)
    for offset in SharedMemoryLayout.headOffsets {
        base.storeBytes(of: SharedMemoryLayout.firstPosition(ringBytes: UInt64(ringBytes)), toByteOffset: offset, as: UInt64.self)
    }
    if sealed { try SharedMemorySyscalls.sealSize(fd) }
    return fd
}

/// A connector that runs the handshake by hand with a memfd the test keeps, to misuse it later.
final class HandMadeSharedMemoryPeer {
    enum Outcome: Equatable {
        case accepted
        case refused
    }

    let socket: Int32
    let memfd: Int32
    let ownWake: Int32
    private(set) var acceptorWake: Int32 = -1

    init(name: String, memfd: Int32) throws {
        socket = try SharedMemorySyscalls.connect(name: name)
        SharedMemorySyscalls.setReceiveTimeout(socket, milliseconds: 5000)
        self.memfd = memfd
        ownWake = try SharedMemorySyscalls.eventFD()
    }

    /// hello (with the memfd) → helloReply → auth.
    func handshake() throws -> Outcome {
        let handshake = ConnectorHandshake(node: .random(), secret: nil, maxFramePayload: 1 << 12)
        try SharedMemoryHandshakeMessage.send(handshake.firstFrame(), fds: [memfd, ownWake], on: socket)
        let received: (bytes: [UInt8], fds: [Int32])?
        do { received = try SharedMemorySyscalls.receive(socket, capacity: SharedMemoryHandshakeMessage.maxSize) } catch {
            return .refused  // reset by the acceptor
        }
        guard let received else { return .refused }
        let reply = try SharedMemoryHandshakeMessage.decode(received, limits: FrameLimits())
        guard reply.fds.count == 1 else { return .refused }
        acceptorWake = reply.fds[0]
        let (auth, _) = try reply.payload.withUnsafeBytes { bytes in
            try handshake.receiveReply(kind: reply.kind, payload: bytes)
        }
        try SharedMemoryHandshakeMessage.send(auth, fds: [], on: socket)
        return .accepted
    }

    /// Makes the acceptor's IO thread wake and look at the rings.
    func wakeAcceptor() { SharedMemorySyscalls.signal(acceptorWake) }

    func close() {
        for fd in [socket, ownWake, acceptorWake] where fd >= 0 { Foundation.close(fd) }
    }
}
