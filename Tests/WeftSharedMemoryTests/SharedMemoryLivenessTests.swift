import Foundation
import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

/// The listener's bounds (handshake time-out, `max-connections`) and liveness on shared
/// memory: heartbeat counts in the control page keep an idle peer alive, and a peer whose
/// count stops (hung, stopped) is lost.
@Suite(.serialized) struct SharedMemoryLivenessTests {
    /// A listener in this process with short limits; `received` sees what its peers send.
    final class Scene: @unchecked Sendable {
        let runtime: IORuntime
        let listener: any TransportListener
        let transport: SharedMemoryTransport
        let name = "weft-live-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let received = CollectingHandler()

        init(
            connectTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(5),
            heartbeatInterval: Duration = .seconds(1), maxConnections: Int = 1024
        ) throws {
            runtime = try IORuntime(progress: .sleep)
            transport = SharedMemoryTransport(
                context: TransportContext(
                    runtime: runtime, connectTimeout: connectTimeout, idleTimeout: idleTimeout,
                    heartbeatInterval: heartbeatInterval, maxConnections: maxConnections),
                ringBytes: 64 << 10)
            let received = self.received
            listener = try transport.listen(at: name, options: ConnectionOptions()) { _ in received }
        }

        func connect(handler: any ConnectionHandler = CollectingHandler()) throws
            -> any TransportConnection
        {
            try transport.connect(to: name, options: ConnectionOptions(), handler: handler)
        }

        func close() {
            listener.close()
            runtime.shutdown()
        }
    }

    /// A connector that never sends its hello is dropped after the handshake time-out
    /// (its setup socket reaches end of stream), not kept forever.
    @Test func aConnectorThatNeverSendsHelloIsDropped() throws {
        let scene = try Scene(connectTimeout: .milliseconds(300))
        defer { scene.close() }
        let socket = try SharedMemorySyscalls.connect(name: scene.name)
        defer { Foundation.close(socket) }
        SharedMemorySyscalls.setReceiveTimeout(socket, milliseconds: 5000)
        let started = ContinuousClock.now
        var byte: UInt8 = 0
        let count = recv(socket, &byte, 1, 0)
        let elapsed = ContinuousClock.now - started
        #expect(
            count == 0, "the silent connector was not dropped (recv returned \(count), errno \(errno))")
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3), "dropped after \(elapsed)")
        // The listener serves on.
        let connection = try scene.connect()
        try connection.send([1])
        #expect(scene.received.wait(timeout: .seconds(5)) { $0.frameCount == 1 })
        connection.close()
    }

    /// At `max-connections` the next connector is refused; the others are served, and a
    /// place comes back when a connection ends.
    @Test func aListenerAtItsCapRefusesTheNext() throws {
        let scene = try Scene(maxConnections: 1)
        defer { scene.close() }
        let first = try scene.connect()
        do {
            let refused = try scene.connect()
            Issue.record("a second connection past max-connections 1 was accepted")
            refused.close()
        } catch {
            #expect("\(error)".contains("max-connections"), "the refusal does not say why: \(error)")
        }
        try first.send([1])
        #expect(scene.received.wait(timeout: .seconds(5)) { $0.frameCount == 1 })
        first.close()
        #expect(scene.received.wait(timeout: .seconds(5)) { $0.closedConnections.count == 1 })
        let second = try scene.connect()
        try second.send([2])
        #expect(scene.received.wait(timeout: .seconds(5)) { $0.frameCount == 2 })
        second.close()
    }

    /// An idle connection between two live IO threads outlives several idle time-outs.
    @Test func anIdleConnectionSurvivesOnHeartbeats() throws {
        // Generous against a loaded machine: ten heartbeats per time-out.
        let scene = try Scene(idleTimeout: .seconds(1), heartbeatInterval: .milliseconds(100))
        defer { scene.close() }
        let clientSide = CollectingHandler()
        let connection = try scene.connect(handler: clientSide)
        usleep(3_500_000)
        #expect(
            !connection.isClosed && clientSide.closedConnections.isEmpty
                && scene.received.closedConnections.isEmpty)
        try connection.send([7])
        #expect(scene.received.wait(timeout: .seconds(5)) { $0.frameCount == 1 })
        connection.close()
    }

    /// A peer that completed the handshake but whose heartbeat count never moves (its
    /// process alive, so its pidfd says nothing) is lost after the idle time-out.
    @Test func aPeerWhoseHeartbeatStopsIsLost() throws {
        let scene = try Scene(idleTimeout: .milliseconds(300), heartbeatInterval: .milliseconds(60))
        defer { scene.close() }
        let created = try SharedMemoryRegion.create(ringBytes: 64 << 10, connectorMode: .sleep)
        defer { Foundation.close(created.1) }
        let peer = try HandMadeSharedMemoryPeer(name: scene.name, memfd: created.1)
        defer { peer.close() }
        let started = ContinuousClock.now
        #expect(try peer.handshake() == .accepted)
        #expect(
            scene.received.wait(timeout: .seconds(5)) { !$0.closedConnections.isEmpty },
            "the stopped peer was never dropped")
        let elapsed = ContinuousClock.now - started
        let error = scene.received.closedConnections.values.first ?? nil
        guard case .peerLost(let why) = error else {
            Issue.record("closed with \(String(describing: error)), expected peerLost")
            return
        }
        #expect(why.contains("idle-timeout-ms"))
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3), "dropped after \(elapsed)")
    }
}
