import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

extension TCPTests {
    /// Bad input closes the one connection it came on, with a logged reason; the
    /// process and every other connection go on.
    @Suite struct MalformedInput {
        /// A server with a 1 MiB frame limit, a healthy connection, and a counter of what it delivered.
        final class Scene {
            let pair: TCPPair
            let received = CollectingHandler()
            let listener: any TransportListener
            let healthy: TCPConnection
            /// The healthy connection's id on the server side.
            let healthyID: ConnectionID
            var sent = 0

            init() throws {
                pair = try TCPPair(serverLimits: FrameLimits(maxFramePayload: 1 << 20, maxMessage: 4 << 20))
                let received = self.received
                listener = try pair.listen { _ in received }
                healthy = try pair.connect(to: listener)
                try healthy.send(Sequence64.bytes(0))
                sent = 1
                guard received.wait(until: { $0.frameCount == 1 }) else { throw TransportError.timedOut("first frame") }
                healthyID = received.frames[0].connection
            }

            func sendHealthy(_ count: Int) throws {
                for _ in 0..<count {
                    try healthy.send(Sequence64.bytes(UInt64(sent)))
                    sent += 1
                }
            }

            /// Everything the healthy connection sent arrived, in order, and it is still open.
            func healthyIsIntact() -> Bool {
                let frames = { self.received.frames.filter { $0.connection == self.healthyID } }
                guard received.wait(until: { _ in frames().count >= self.sent }) else { return false }
                return frames().map { Sequence64.value($0.payload).value } == (0..<UInt64(sent)).map { $0 }
                    && !healthy.isClosed
            }

            func rawHandshaken() throws -> TCPRawClient {
                try TCPRawClient(handshakingWith: listener.address, context: tcpRawContext(runtime: pair.clientRuntime))
            }

            /// The error the server reported for the one connection that closed with one.
            func violation() -> TransportError? {
                guard received.wait(until: { $0.closedConnections.values.contains { $0 != nil } }) else { return nil }
                return received.closedConnections.values.compactMap { $0 }.first
            }

            func finish() {
                healthy.close()
                listener.close()
                pair.shutdown()
            }
        }

        @Test func garbageBytesCloseOnlyThatConnection() throws {
            let scene = try Scene()
            defer { scene.finish() }
            try scene.sendHealthy(200)
            let garbage = try TCPRawClient(connectingTo: scene.listener.address)
            try garbage.write(
                Array("GET / HTTP/1.1\r\nHost: weft\r\n\r\n".utf8) + (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            try scene.sendHealthy(200)
            let answer = garbage.readUntilClosed()
            #expect(answer != nil, "the garbage connection must be closed")
            // It is told why, in a close frame, before the end of the stream.
            let close = answer.flatMap(tcpFirstFrame(in:))
            #expect(close?.header.kind == .close)
            #expect(close.map { String(decoding: $0.payload, as: UTF8.self).contains("bad magic") } == true)
            #expect(scene.pair.serverLog.wait(for: "bad magic"))
            try scene.sendHealthy(200)
            #expect(scene.healthyIsIntact())
            // A peer that never finished its handshake has no handler to tell.
            #expect(scene.received.closedConnections.isEmpty)
        }

        @Test func oversizedLengthField() throws {
            let scene = try Scene()
            defer { scene.finish() }
            try scene.sendHealthy(100)
            let raw = try scene.rawHandshaken()
            try raw.write(tcpWireFrame(FrameHeader(kind: .data), payload: [1, 2, 3]))
            var header = [UInt8](repeating: 0, count: FrameLayout.headerSize)
            header.withUnsafeMutableBytes { FrameHeader(kind: .data, payloadLength: 2 << 20).encode(to: $0.baseAddress!) }
            try raw.write(header + [UInt8](repeating: 0, count: 64))
            #expect(scene.violation() == .protocolViolation(.tooLong(length: 2 << 20, limit: 1 << 20)))
            #expect(raw.readUntilClosed() != nil)
            #expect(scene.pair.serverLog.wait(for: "over the limit"))
            try scene.sendHealthy(100)
            #expect(scene.healthyIsIntact())
        }

        @Test func truncatedFrame() throws {
            let scene = try Scene()
            defer { scene.finish() }
            let raw = try scene.rawHandshaken()
            let frame = tcpWireFrame(FrameHeader(kind: .data), payload: [UInt8](repeating: 9, count: 1000))
            try raw.write(Array(frame[0..<(FrameLayout.headerSize + 100)]))
            raw.shutdownWriting()
            #expect(scene.violation() == .protocolViolation(.truncated(have: 132, need: 1032)))
            #expect(scene.pair.serverLog.wait(for: "ended inside a frame"))
            try scene.sendHealthy(50)
            #expect(scene.healthyIsIntact())
        }

        @Test func dataBeforeTheHandshake() throws {
            let scene = try Scene()
            defer { scene.finish() }
            let raw = try TCPRawClient(connectingTo: scene.listener.address)
            try raw.write(tcpWireFrame(FrameHeader(kind: .data), payload: [1, 2, 3, 4]))
            let answer = raw.readUntilClosed()
            #expect(answer != nil)
            #expect(answer.flatMap(tcpFirstFrame(in:))?.header.kind == .close)
            #expect(scene.pair.serverLog.wait(for: "unexpected data frame"))
            try scene.sendHealthy(50)
            #expect(scene.healthyIsIntact())
        }

        @Test func handshakeKindAfterEstablishment() throws {
            let scene = try Scene()
            defer { scene.finish() }
            let raw = try scene.rawHandshaken()
            try raw.write(tcpWireFrame(FrameHeader(kind: .hello), payload: [UInt8](repeating: 0, count: 64)))
            guard case .protocolViolation(.unexpectedKind(.hello, _)) = scene.violation() else {
                Issue.record("expected unexpectedKind(hello)")
                return
            }
            try scene.sendHealthy(50)
            #expect(scene.healthyIsIntact())
        }

        @Test func fragmentsThatContradictEachOther() throws {
            let scene = try Scene()
            defer { scene.finish() }
            let raw = try scene.rawHandshaken()
            let first = FrameHeader(kind: .data, flags: [.fragment, .moreFragments], correlation: 1, messageLength: 16)
            let second = FrameHeader(kind: .data, flags: [.fragment], correlation: 2, messageLength: 16)
            try raw.write(
                tcpWireFrame(first, payload: [UInt8](repeating: 1, count: 8))
                    + tcpWireFrame(second, payload: [UInt8](repeating: 2, count: 8)))
            #expect(scene.violation() == .protocolViolation(.fragmentInconsistent))
            try scene.sendHealthy(50)
            #expect(scene.healthyIsIntact())
        }

        /// Well-formed fragments from a hand-made peer come out as one message.
        @Test func fragmentsReassembleAndDeliverOnce() throws {
            let scene = try Scene()
            defer { scene.finish() }
            let raw = try scene.rawHandshaken()
            var stream: [UInt8] = []
            let message = patternBytes(2500)
            for start in stride(from: 0, to: 2500, by: 1000) {
                let end = min(start + 1000, 2500)
                var flags: FrameFlags = [.fragment]
                if end < 2500 { flags.insert(.moreFragments) }
                stream += tcpWireFrame(
                    FrameHeader(kind: .request, flags: flags, correlation: 77, messageLength: 2500),
                    payload: Array(message[start..<end]))
            }
            try raw.write(stream)
            #expect(scene.received.wait { $0.frames.contains { $0.header.correlation == 77 } })
            let frame = scene.received.frames.first { $0.header.correlation == 77 }
            #expect(frame?.payload == message)
            #expect(frame?.header.kind == .request)
            #expect(frame?.header.flags.contains(.fragment) == false)
        }
    }
}
