import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

extension TCPTests {
    /// Connect, handshake, echo; addresses; zero copy; pausing; close and peer loss.
    @Suite struct Transport {
        @Test func connectHandshakeAndEchoSeveralSizes() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let listener = try pair.listen { _ in EchoHandler() }
            defer { listener.close() }
            #expect(listener.address.hasPrefix("127.0.0.1:"))
            #expect(!listener.address.hasSuffix(":0"), "port 0 must report the port the kernel chose")
            let replies = CollectingHandler()
            let connection = try pair.connect(to: listener, handler: replies)
            #expect(connection.peer.node == pair.server.context.node)
            #expect(connection.maxReservation == (4 << 20) / 2 - FrameLayout.headerSize)
            let chunk = connection.maxReservation
            let sizes = [0, 1, 7, 8, 9, 100, 4096, 65_536, 1 << 20, chunk, chunk + 1, 5 << 20]
            let messages = sizes.enumerated().map { tcpPattern($0.element, seed: UInt8($0.offset)) }
            for (index, message) in messages.enumerated() {
                try connection.send(message, kind: .request, correlation: UInt64(index + 1))
            }
            #expect(replies.wait { $0.frameCount >= sizes.count })
            for (index, frame) in replies.frames.enumerated() {
                #expect(frame.header.kind == .response)
                #expect(frame.header.correlation == UInt64(index + 1))
                #expect(frame.payload == messages[index], "size \(sizes[index])")
            }
            connection.close()
            #expect(replies.wait { $0.closedConnections.count == 1 })
            #expect(replies.closedConnections.values.allSatisfy { $0 == nil })
        }

        @Test func ipv6Loopback() throws {
            let pair = try TCPPair(progress: .adaptive)
            defer { pair.shutdown() }
            let listener = try pair.listen(at: "[::1]:0") { _ in EchoHandler() }
            defer { listener.close() }
            #expect(listener.address.hasPrefix("[::1]:"))
            let replies = CollectingHandler()
            let connection = try pair.connect(to: listener, handler: replies)
            #expect(connection.peer.address == listener.address)
            for index in 0..<100 { try connection.send(Sequence64.bytes(UInt64(index)), kind: .request) }
            #expect(replies.wait { $0.frameCount >= 100 })
            #expect(replies.frames.map { Sequence64.value($0.payload).value } == (0..<100).map { UInt64($0) })
            connection.close()
        }

        @Test func localhostByName() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen(at: "localhost:0") { _ in received }
            defer { listener.close() }
            let port = listener.address.split(separator: ":").last!
            let connection = try pair.client.connect(
                to: "localhost:\(port)", options: ConnectionOptions(), handler: CollectingHandler())
            try connection.send([1, 2, 3])
            #expect(received.wait { $0.frameCount == 1 })
            connection.close()
        }

        @Test func badAddressesAreExplained() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            for text in ["127.0.0.1", "::1:7000", "[::1", "[::1]", "127.0.0.1:99999", ":7000"] {
                #expect(throws: TransportError.self, "\(text)") {
                    _ = try pair.server.listen(at: text, options: ConnectionOptions()) { _ in CollectingHandler() }
                }
            }
            do {
                _ = try pair.server.listen(at: "::1:7000", options: ConnectionOptions()) { _ in CollectingHandler() }
            } catch {
                #expect(error.description.contains("[::1]:7000"))
            }
        }

        @Test func refusedConnectionFails() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            // Take a free port, then close it again.
            let listener = try pair.listen { _ in CollectingHandler() }
            let address = listener.address
            listener.close()
            #expect(throws: TransportError.self) {
                _ = try pair.client.connect(to: address, options: ConnectionOptions(), handler: CollectingHandler())
            }
        }

        /// The views handed to handlers point into the connection's receive buffer, 8-byte
        /// aligned; reservations point into its send ring.
        @Test func zeroCopyViewsLieInTransportMemory() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let inside = Atomic<Int>(0)
            let outside = Atomic<Int>(0)
            received.inspect = { frame, connection in
                let tcp = connection as! TCPConnection
                let address = UInt(bitPattern: frame.payloadBaseAddress)
                let start = UInt(bitPattern: tcp.receiveBuffer.base)
                if address >= start && address + UInt(frame.count) <= start + UInt(tcp.receiveBuffer.capacity) && address % 8 == 0
                {
                    inside.wrappingAdd(1, ordering: .relaxed)
                } else {
                    outside.wrappingAdd(1, ordering: .relaxed)
                }
            }
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let connection = try pair.connect(to: listener)
            for size in [1, 3, 13, 100, 1000, 5000] {
                let reservation = try connection.reserve(capacity: size)
                let address = UInt(bitPattern: reservation.payload.baseAddress!)
                let ring = UInt(bitPattern: connection.sendBase)
                #expect(address >= ring && address + UInt(size) <= ring + UInt(connection.sendCapacity))
                #expect(address % 8 == 0)
                for offset in 0..<size { reservation.payload[offset] = UInt8(truncatingIfNeeded: offset) }
                reservation.commit(kind: .data, length: size)
            }
            #expect(received.wait { $0.frameCount == 6 })
            #expect(inside.load(ordering: .relaxed) == 6)
            #expect(outside.load(ordering: .relaxed) == 0)
            for (frame, size) in zip(received.frames, [1, 3, 13, 100, 1000, 5000]) {
                #expect(frame.payload == (0..<size).map { UInt8(truncatingIfNeeded: $0) })
            }
            connection.close()
        }

        /// The receive buffer keeps its configured size until a larger frame arrives.
        @Test func receiveBufferGrowsOnlyForALargerFrame() throws {
            let pair = try TCPPair(configuration: TCPConfiguration(receiveBufferBytes: 16 << 10))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let capacities = Locked<[Int]>([])
            received.inspect = { _, connection in
                let capacity = (connection as! TCPConnection).receiveBuffer.capacity
                capacities.withLock { $0.append(capacity) }
            }
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let connection = try pair.connect(to: listener)
            for _ in 0..<2000 { try connection.send(tcpPattern(100)) }
            try connection.send(tcpPattern(100_000))
            try connection.send(tcpPattern(10))
            #expect(received.wait { $0.frameCount == 2002 })
            let seen = capacities.withLock { $0 }
            #expect(seen[0..<2000].allSatisfy { $0 == 16 << 10 })
            #expect(seen[2000] >= FrameHeader.paddedFrameSize(payload: 100_000))
            #expect(received.frames[2000].payload == tcpPattern(100_000))
            connection.close()
        }

        /// Frames committed between flushes leave in one writev; order holds across ring wraps.
        @Test func manySmallFramesWrapTheRingInOrder() throws {
            let pair = try TCPPair(configuration: TCPConfiguration(sendBufferBytes: 64 << 10, receiveBufferBytes: 4 << 10))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let connection = try pair.connect(to: listener)
            let count = 30_000
            for index in 0..<count {
                // Odd sizes exercise padding and the wrap at the ring's end.
                var payload = Sequence64.bytes(UInt64(index))
                payload += [UInt8](repeating: 0xAB, count: index % 37)
                try connection.send(payload)
            }
            #expect(received.wait { $0.frameCount >= count })
            let frames = received.frames
            #expect(frames.map { Sequence64.value($0.payload).value } == (0..<UInt64(count)).map { $0 })
            #expect(frames.enumerated().allSatisfy { $0.element.payload.count == 16 + $0.offset % 37 })
            connection.close()
        }

        /// A handler that keeps a frame pauses that connection only.
        @Test func heldFramePausesOnlyItsConnection() throws {
            let pair = try TCPPair(progress: .adaptive)
            defer { pair.shutdown() }
            let slow = CollectingHandler()
            slow.hold.store(true, ordering: .releasing)
            let fast = CollectingHandler()
            let which = Atomic<Int>(0)
            let listener = try pair.listen { _ in which.wrappingAdd(1, ordering: .relaxed).oldValue == 0 ? slow : fast }
            defer { listener.close() }
            let held = try pair.connect(to: listener)
            try held.send([1])
            #expect(slow.wait { $0.frameCount == 1 })
            let other = try pair.connect(to: listener)
            for index in 0..<10 { try held.send(Sequence64.bytes(UInt64(index))) }
            for index in 0..<500 { try other.send(Sequence64.bytes(UInt64(index))) }
            #expect(fast.wait { $0.frameCount == 500 })
            usleep(20_000)
            #expect(slow.frameCount == 1, "a held frame must pause its connection")
            slow.releaseHeld()
            #expect(slow.wait { $0.frameCount == 11 })
            held.close()
            other.close()
        }

        /// Several threads on one connection opened for concurrent senders, large messages too.
        @Test func concurrentSendersWithLargeMessages() throws {
            let pair = try TCPPair(progress: .adaptive)
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let connection = try pair.connect(to: listener, options: ConnectionOptions(concurrentSenders: true))
            let big = 3 << 20
            let failures = Atomic<Int>(0)
            let patterns = (0..<3).map { tcpPattern(big, seed: UInt8($0)) }
            try tcpRunThreads(3) { sender in
                for index in 0..<300 {
                    var payload = Sequence64.bytes(UInt64(index), sender: UInt64(sender))
                    if index % 100 == 0 { payload += patterns[sender] }
                    do { try connection.send(payload) } catch { failures.wrappingAdd(1, ordering: .relaxed) }
                }
            }
            #expect(failures.load(ordering: .relaxed) == 0)
            #expect(received.wait { $0.frameCount >= 900 })
            var perSender: [UInt64: [UInt64]] = [:]
            for frame in received.frames {
                let (value, sender) = Sequence64.value(frame.payload)
                perSender[sender, default: []].append(value)
                if value % 100 == 0 {
                    #expect(frame.payload.count == 16 + big)
                    #expect(frame.payload[16...].elementsEqual(patterns[Int(sender)]))
                }
            }
            #expect(perSender.count == 3)
            #expect(perSender.values.allSatisfy { $0 == (0..<300).map { UInt64($0) } })
            connection.close()
        }

        /// The receiver holds its first frame: the sender fills its ring and gets `.wouldBlock`.
        @Test func fullSendBufferPushesBack() throws {
            let pair = try TCPPair(configuration: TCPConfiguration(sendBufferBytes: 64 << 10))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            received.hold.store(true, ordering: .releasing)
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let connection = try pair.connect(to: listener)
            #expect(connection.maxReservation == (32 << 10) - 32)
            var accepted = 0
            var blocked = false
            while accepted < 100_000 {
                do {
                    let reservation = try connection.reserve(capacity: 1000)
                    reservation.commit(kind: .data, length: 1000)
                    accepted += 1
                } catch .wouldBlock {
                    blocked = true
                    break
                }
            }
            #expect(blocked)
            received.releaseHeld()
            #expect(received.wait { $0.frameCount >= accepted })
            connection.close()
        }

        @Test func orderlyCloseReachesBothSidesOnce() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let clientSide = CollectingHandler()
            let connection = try pair.connect(to: listener, handler: clientSide)
            for index in 0..<1000 { try connection.send(Sequence64.bytes(UInt64(index))) }
            connection.close()
            connection.close()
            #expect(connection.isClosed)
            #expect(received.wait { $0.closedConnections.count == 1 })
            #expect(received.frameCount == 1000)
            #expect(clientSide.wait { $0.closedConnections.count == 1 })
            #expect(received.closedConnections.values.allSatisfy { $0 == nil })
            #expect(clientSide.closedConnections.values.allSatisfy { $0 == nil })
            #expect(throws: TransportError.self) { try connection.send([1]) }
        }

        /// The server closes; the client's handler hears `closed(nil)` after every frame.
        @Test func closeFromTheAcceptingSide() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let serverSide = CollectingHandler()
            let listener = try pair.listen { _ in serverSide }
            defer { listener.close() }
            let clientSide = CollectingHandler()
            let connection = try pair.connect(to: listener, handler: clientSide)
            try connection.send([0])
            #expect(serverSide.wait { $0.frameCount == 1 })
            let serverConnection = serverSide.connections[0]
            for index in 0..<100 { try serverConnection.send(Sequence64.bytes(UInt64(index))) }
            serverConnection.close()
            #expect(clientSide.wait { $0.closedConnections.count == 1 })
            #expect(clientSide.frameCount == 100)
            #expect(clientSide.closedConnections.values.allSatisfy { $0 == nil })
            #expect(serverSide.wait { $0.closedConnections.count == 1 })
            #expect(connection.isClosed)
        }

        /// A peer that vanishes without a close frame (a killed process) is reported lost.
        @Test func peerGoneIsPeerLost() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            var raw: TCPRawClient? = try TCPRawClient(
                handshakingWith: listener.address, context: tcpRawContext(runtime: pair.clientRuntime))
            try raw!.write(tcpWireFrame(FrameHeader(kind: .data), payload: [1, 2, 3]))
            #expect(received.wait { $0.frameCount == 1 })
            raw = nil  // the kernel closes the socket, as when a process dies
            #expect(received.wait { $0.closedConnections.count == 1 })
            guard case .peerLost = received.closedConnections.values.first! else {
                Issue.record("expected peerLost, got \(String(describing: received.closedConnections.values.first!))")
                return
            }
        }

        /// Heartbeat and credit frames are accepted and not delivered.
        @Test func heartbeatAndCreditAreIgnored() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let raw = try TCPRawClient(handshakingWith: listener.address, context: tcpRawContext(runtime: pair.clientRuntime))
            var stream = tcpWireFrame(FrameHeader(kind: .heartbeat))
            stream += tcpWireFrame(FrameHeader(kind: .credit), payload: [8, 0, 0, 0])
            stream += tcpWireFrame(FrameHeader(kind: .data), payload: [42])
            stream += tcpWireFrame(FrameHeader(kind: .close), payload: Array("bye".utf8))
            try raw.write(stream)
            #expect(received.wait { $0.closedConnections.count == 1 })
            #expect(received.frames.map(\.payload) == [[42]])
            #expect(received.closedConnections.values.allSatisfy { $0 == nil })
            // The server answers a close with its own close frame, then ends the stream.
            let answer = raw.readUntilClosed()
            #expect(answer.flatMap(tcpFirstFrame(in:))?.header.kind == .close)
        }

        /// A client that never speaks is closed after the connect timeout, and others get in meanwhile.
        @Test func silentClientIsClosedAfterTheTimeout() throws {
            let pair = try TCPPair(connectTimeout: .milliseconds(300))
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            let silent = try TCPRawClient(connectingTo: listener.address)
            let connection = try pair.connect(to: listener)
            try connection.send([7])
            #expect(received.wait { $0.frameCount == 1 })
            #expect(silent.readUntilClosed(timeout: .seconds(5)) != nil, "the silent client must be closed")
            #expect(pair.serverLog.wait(for: "no handshake within"))
            #expect(!connection.isClosed)
            connection.close()
        }

        /// An acceptor that never answers makes connect time out instead of hanging.
        @Test func connectTimesOutOnASilentAcceptor() throws {
            let pair = try TCPPair(connectTimeout: .milliseconds(300))
            defer { pair.shutdown() }
            // A listening socket nobody accepts on: the kernel completes TCP's handshake, nobody answers hello.
            let address = try TCPSocket.resolve(TCPEndpoint(parsing: "127.0.0.1:0"), passive: true)[0]
            let fd = try TCPSocket.open(family: address.family)
            defer { TCPSocket.close(fd) }
            try TCPSocket.bindAndListen(fd, at: address, backlog: 4)
            let bound = try TCPSocket.localAddress(fd)
            let start = ContinuousClock.now
            do {
                _ = try pair.client.connect(to: bound.description, options: ConnectionOptions(), handler: CollectingHandler())
                Issue.record("connect to a silent acceptor succeeded")
            } catch {
                guard case .timedOut = error else {
                    Issue.record("expected timedOut, got \(error)")
                    return
                }
            }
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }
}

/// Runs `body` on `count` threads and joins them.
func tcpRunThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) throws {
    var threads: [pthread_t] = []
    for index in 0..<count {
        let box = Unmanaged.passRetained(TCPThreadBody { body(index) }).toOpaque()
        var thread: pthread_t = 0
        guard
            pthread_create(
                &thread, nil,
                { raw in
                    Unmanaged<TCPThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
                    return nil
                }, box) == 0
        else { throw TransportError.unavailable("pthread_create failed") }
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}

final class TCPThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
