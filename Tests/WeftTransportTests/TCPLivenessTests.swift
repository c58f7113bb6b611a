import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

extension TCPTests {
    /// Heartbeats, the idle time-out and the cap on connections per listener.
    @Suite struct Liveness {
        /// A peer that completes the handshake and then sends nothing at all (a raw socket:
        /// no heartbeats either) is closed with `peerLost` within the idle time-out: this is
        /// how a silent partition or a stopped process is found.
        @Test func aPeerSilentAfterTheHandshakeIsLost() throws {
            let pair = try TCPPair(idleTimeout: .milliseconds(400), heartbeatInterval: .milliseconds(80))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let started = ContinuousClock.now
            let silent = try TCPRawClient(
                handshakingWith: listener.address, context: tcpRawContext(runtime: pair.clientRuntime))
            #expect(
                received.wait(timeout: .seconds(5)) { !$0.closedConnections.isEmpty },
                "the silent peer was never dropped")
            let elapsed = ContinuousClock.now - started
            let error = received.closedConnections.values.first ?? nil
            guard case .peerLost(let why) = error else {
                Issue.record("closed with \(String(describing: error)), expected peerLost")
                return
            }
            #expect(why.contains("idle-timeout-ms"))
            #expect(elapsed >= .milliseconds(350) && elapsed < .seconds(3), "dropped after \(elapsed)")
            #expect(pair.serverLog.contains("nothing heard from the peer"))
            // The server sent heartbeats meanwhile, then the end of the stream.
            let bytes = silent.readUntilClosed(timeout: .seconds(2))
            #expect(bytes.flatMap(tcpFirstFrame(in:))?.header.kind == .heartbeat)
        }

        /// An idle, healthy connection outlives several idle time-outs, because both sides
        /// send heartbeats when they have nothing else to send; then it still carries data.
        @Test func anIdleHealthyConnectionSurvivesOnHeartbeats() throws {
            // Generous against a loaded machine: ten heartbeats per time-out.
            let pair = try TCPPair(idleTimeout: .seconds(1), heartbeatInterval: .milliseconds(100))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let clientSide = CollectingHandler()
            let connection = try pair.connect(to: listener, handler: clientSide)
            try connection.send([1, 2, 3])
            #expect(received.wait(timeout: .seconds(5)) { $0.frameCount == 1 })
            usleep(3_500_000)  // three and a half idle time-outs
            #expect(!connection.isClosed, "the client dropped an idle healthy server")
            #expect(received.closedConnections.isEmpty, "the server dropped an idle healthy client")
            #expect(clientSide.closedConnections.isEmpty)
            try connection.send([4, 5, 6])
            #expect(received.wait(timeout: .seconds(5)) { $0.frameCount == 2 })
            connection.close()
        }

        /// At `max-connections` the listener refuses the next peer with one sentence (in
        /// its log, and in the close frame the peer's connect reports), and serves the others;
        /// a place comes back when a connection ends.
        @Test func aListenerAtItsCapRefusesTheNextAndServesTheOthers() throws {
            let pair = try TCPPair(maxConnections: 2)
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let first = try pair.connect(to: listener)
            let second = try pair.connect(to: listener)
            var refusal: (any Error)?
            do {
                let third = try pair.connect(to: listener)
                third.close()
            } catch {
                refusal = error
            }
            #expect(
                refusal.map { "\($0)".contains("max-connections") } == true,
                "third connect: \(String(describing: refusal))")
            #expect(pair.serverLog.wait(for: "refused a connection from"))
            #expect(pair.serverLog.contains("the most max-connections allows"))
            try first.send([1])
            try second.send([2])
            #expect(received.wait(timeout: .seconds(5)) { $0.frameCount == 2 })
            first.close()
            #expect(received.wait(timeout: .seconds(5)) { $0.closedConnections.count == 1 })
            let fourth = try pair.connect(to: listener)
            try fourth.send([4])
            #expect(received.wait(timeout: .seconds(5)) { $0.frameCount == 3 })
            fourth.close()
            second.close()
        }
    }
}
