import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

extension TCPTests {
    /// Spinning, the first few connections of an IO thread read their sockets on every turn
    /// themselves; the rest wait for epoll as before. Both kinds deliver everything.
    @Suite(.serialized) struct SpinReads {
        @Test func theFirstConnectionsReadDirectlyAndAllDeliver() throws {
            let pair = try TCPPair(progress: .spin)
            defer { pair.shutdown() }
            let listener = try pair.listen { _ in EchoHandler() }
            defer { listener.close() }
            var connections: [TCPConnection] = []
            var handlers: [CollectingHandler] = []
            for _ in 0...IOThread.maxSpinReaders {
                let replies = CollectingHandler()
                connections.append(try pair.connect(to: listener, handler: replies))
                handlers.append(replies)
            }
            let direct = try connections.map { connection in
                try connection.ioThread.submitAndWait { connection.readsWhileSpinning }
            }
            #expect(direct == Array(repeating: true, count: IOThread.maxSpinReaders) + [false])

            // Small and large messages (the large ones fill the socket: a blocked writer
            // resumes without a writable edge from epoll) come back whole and in order.
            let sizes = [0, 8, 4096, 1 << 20, 3 << 20]
            for (index, connection) in connections.enumerated() {
                for (sequence, size) in sizes.enumerated() {
                    try connection.send(
                        tcpPattern(size, seed: UInt8(index * 8 + sequence)), kind: .request,
                        correlation: UInt64(sequence))
                }
            }
            for (index, replies) in handlers.enumerated() {
                #expect(replies.wait(timeout: .seconds(30)) { $0.frameCount == sizes.count })
                #expect(replies.frames.map(\.header.correlation) == (0..<sizes.count).map { UInt64($0) })
                #expect(
                    replies.frames.map(\.payload)
                        == sizes.enumerated().map { tcpPattern($0.element, seed: UInt8(index * 8 + $0.offset)) })
            }

            // A peer that closes is seen by a direct reader (end of stream on its own read).
            connections[0].close()
            #expect(handlers[0].wait { $0.closedConnections.count == 1 })
        }

        @Test(arguments: [ProgressMode.adaptive, .sleep])
        func threadsThatSleepHaveNoSpinReaders(progress: ProgressMode) throws {
            let pair = try TCPPair(progress: progress)
            defer { pair.shutdown() }
            let listener = try pair.listen { _ in EchoHandler() }
            defer { listener.close() }
            let connection = try pair.connect(to: listener, handler: CollectingHandler())
            #expect(try connection.ioThread.submitAndWait { connection.readsWhileSpinning } == false)
        }
    }
}
