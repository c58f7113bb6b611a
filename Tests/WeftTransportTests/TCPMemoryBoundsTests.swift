import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

extension TCPTests {
    /// What a peer can make a TCP connection hold: buffers grow with the bytes that arrived,
    /// go back when idle, and reassembly stays within the process's budget.
    @Suite struct MemoryBounds {
        /// A large frame makes the receive buffer grow; once handled and drained, it shrinks back.
        @Test func receiveBufferShrinksWhenIdle() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let connection = try pair.connect(to: listener)
            let large = tcpPattern(1 << 20)
            try connection.send(large)
            #expect(received.wait { $0.frameCount == 1 })
            #expect(received.frames.first?.payload == large)
            let server = try #require(received.connections.first as? TCPConnection)
            let initial = TCPConfiguration().receiveBufferBytes
            #expect(tcpWaitUntil { (try? server.ioThread.submitAndWait { server.receiveBuffer.capacity }) == initial })
            connection.close()
        }

        /// A header that declares a 32 MiB frame, followed by a trickle: the buffer holds what
        /// arrived, not what was declared.
        @Test func declaredFrameLengthIsNotAllocatedUpFront() throws {
            let pair = try TCPPair(serverLimits: FrameLimits(maxMessage: 64 << 20))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let raw = try TCPRawClient(handshakingWith: listener.address, context: tcpRawContext(runtime: pair.clientRuntime))
            try raw.write(tcpWireFrame(FrameHeader(kind: .data), payload: [1, 2, 3]))
            #expect(received.wait { $0.frameCount == 1 })
            let server = try #require(received.connections.first as? TCPConnection)
            var header = [UInt8](repeating: 0, count: FrameLayout.headerSize)
            header.withUnsafeMutableBytes { FrameHeader(kind: .data, payloadLength: 32 << 20).encode(to: $0.baseAddress!) }
            try raw.write(header + [UInt8](repeating: 9, count: 300 << 10))
            usleep(200_000)
            let capacity = try server.ioThread.submitAndWait { server.receiveBuffer.capacity }
            #expect(capacity <= 1 << 20, "the receive buffer took \(capacity) bytes for 300 KiB received")
        }

        /// A fragmented message that would pass the process's reassembly budget closes its one
        /// connection with `reassemblyOverBudget`; another connection is served as before.
        @Test func reassemblyPastTheProcessBudgetClosesThatConnection() throws {
            let pool = ReassemblyPool(limit: 1 << 20)
            let pair = try TCPPair(
                configuration: TCPConfiguration(sendBufferBytes: 256 << 10), serverReassembly: ReassemblyLimits(pool: pool))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let greedy = try pair.connect(to: listener)
            try? greedy.send(tcpPattern(2 << 20))
            #expect(received.wait { $0.closedConnections.count == 1 })
            guard case .protocolViolation(.reassemblyOverBudget)?? = received.closedConnections.values.first else {
                Issue.record("expected reassemblyOverBudget, got \(received.closedConnections)")
                return
            }
            #expect(pair.serverLog.wait(for: "reassembly budget"))
            #expect(tcpWaitUntil { pool.bytesInUse == 0 })
            let modest = try pair.connect(to: listener)
            try modest.send(tcpPattern(512 << 10))
            #expect(received.wait { $0.frameCount == 1 })
            modest.close()
        }
    }
}
