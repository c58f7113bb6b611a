import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The behaviour every transport must show, written once. Each check builds its own
/// harness, so checks are independent; a thrown `ConformanceFailure` says what broke.
public enum ConformanceSuite {
    /// Frames of one connection arrive in order, none lost, none duplicated.
    public static func orderingAndNoLoss(_ subject: any ConformanceSubject, count: Int = 20_000) throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let received = CollectingHandler()
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        let connection = try harness.connect(to: listener)
        for index in 0..<count { try connection.send(Sequence64.bytes(UInt64(index))) }
        try check(received.wait { $0.frameCount >= count }, "\(subject): received \(received.frameCount) of \(count) frames")
        let values = received.frames.map { Sequence64.value($0.payload).value }
        try check(values == (0..<UInt64(count)).map { $0 }, "\(subject): frames out of order or duplicated")
        connection.close()
    }

    /// Messages from 0 bytes to the limit, across every fragment boundary, come back intact.
    public static func sizesUpToTheMaximum(_ subject: any ConformanceSubject) throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let listener = try harness.listen { _ in EchoHandler() }
        defer { listener.close() }
        let replies = CollectingHandler()
        let connection = try harness.connect(to: listener, handler: replies)
        let chunk = connection.maxReservation
        let maximum = Int(harness.limits.maxMessage)
        let sizes = Set(
            [
                0, 1, 7, 8, 9, 24, 25, 63, 64, 65, 4095, 4096, 65_535, chunk - 1, chunk, chunk + 1,
                2 * chunk, 3 * chunk + 17, maximum - 1, maximum,
            ].filter { $0 >= 0 && $0 <= maximum }
        ).sorted()
        for (index, size) in sizes.enumerated() {
            try connection.send(patternBytes(size, seed: UInt8(index)), kind: .request, correlation: UInt64(index + 1))
        }
        try check(replies.wait { $0.frameCount >= sizes.count }, "\(subject): \(replies.frameCount) of \(sizes.count) echoes")
        for (index, frame) in replies.frames.enumerated() {
            try check(
                frame.header.kind == .response && frame.header.correlation == UInt64(index + 1),
                "\(subject): echo \(index) has kind \(frame.header.kind) correlation \(frame.header.correlation)")
            try check(
                frame.payload == patternBytes(sizes[index], seed: UInt8(index)),
                "\(subject): a message of \(sizes[index]) bytes came back different")
        }
        do {
            try connection.send([UInt8](repeating: 0, count: maximum + 1))
            throw ConformanceFailure("\(subject): a message over the limit was accepted")
        } catch let error as TransportError {
            guard case .messageTooLarge = error else {
                throw ConformanceFailure("\(subject): over-limit send failed with \(error)")
            }
        }
    }

    /// 64 connections to one listener, each ordered and complete.
    public static func manyConnections(_ subject: any ConformanceSubject, connections: Int = 64, each: Int = 200) throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let received = CollectingHandler()
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        var clients: [any TransportConnection] = []
        for _ in 0..<connections { clients.append(try harness.connect(to: listener)) }
        for round in 0..<each {
            for (index, client) in clients.enumerated() {
                try client.send(Sequence64.bytes(UInt64(round), sender: UInt64(index)))
            }
        }
        let total = connections * each
        try check(
            received.wait { $0.frameCount >= total },
            "\(subject): \(received.frameCount) of \(total) frames over \(connections) connections")
        var perConnection: [ConnectionID: [UInt64]] = [:]
        for frame in received.frames {
            perConnection[frame.connection, default: []].append(Sequence64.value(frame.payload).value)
        }
        try check(perConnection.count == connections, "\(subject): frames came over \(perConnection.count) connections")
        for values in perConnection.values {
            try check(values == (0..<UInt64(each)).map { $0 }, "\(subject): a connection's frames are out of order")
        }
        for client in clients { client.close() }
    }

    /// Several threads sending on one connection opened for concurrent senders.
    public static func concurrentSenders(_ subject: any ConformanceSubject, threads: Int = 4, each: Int = 3000) throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let received = CollectingHandler()
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        let connection = try harness.connect(to: listener, options: ConnectionOptions(concurrentSenders: true))
        let failures = Atomic<Int>(0)
        try runThreads(threads) { sender in
            for index in 0..<each {
                do { try connection.send(Sequence64.bytes(UInt64(index), sender: UInt64(sender))) } catch {
                    failures.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
        try check(failures.load(ordering: .relaxed) == 0, "\(subject): concurrent sends failed")
        let total = threads * each
        try check(received.wait { $0.frameCount >= total }, "\(subject): \(received.frameCount) of \(total) concurrent frames")
        var perSender: [UInt64: [UInt64]] = [:]
        for frame in received.frames {
            let (value, sender) = Sequence64.value(frame.payload)
            perSender[sender, default: []].append(value)
        }
        for values in perSender.values {
            try check(values == (0..<UInt64(each)).map { $0 }, "\(subject): one sender's frames are out of order")
        }
    }

    /// A receiver that does not release: the sender gets would-block, memory stays bounded,
    /// and everything arrives once the receiver drains.
    public static func backPressure(_ subject: any ConformanceSubject) throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let received = CollectingHandler()
        received.hold.store(true, ordering: .releasing)
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        let connection = try harness.connect(to: listener)
        let payload = patternBytes(1000)
        var accepted = 0
        var blocked = false
        // Far more than any transport buffers: it must push back well before this.
        while accepted < 1_000_000 {
            if try !sendWithoutWaiting(payload, on: connection) {
                blocked = true
                break
            }
            accepted += 1
        }
        try check(blocked, "\(subject): \(accepted) frames accepted without back-pressure")
        received.releaseHeld()
        try check(
            received.wait { $0.frameCount >= accepted }, "\(subject): \(received.frameCount) of \(accepted) frames after draining"
        )
        try check(received.frames.allSatisfy { $0.payload == payload }, "\(subject): frames damaged under back-pressure")
    }

    /// Close delivers what was committed before it, then `closed(nil)` on both sides, once.
    public static func orderlyClose(_ subject: any ConformanceSubject, count: Int = 500) throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let received = CollectingHandler()
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        let clientSide = CollectingHandler()
        let connection = try harness.connect(to: listener, handler: clientSide)
        for index in 0..<count { try connection.send(Sequence64.bytes(UInt64(index))) }
        connection.close()
        try check(received.wait { $0.closedConnections.count == 1 }, "\(subject): the server never saw the close")
        try check(received.frameCount == count, "\(subject): \(received.frameCount) of \(count) frames before close")
        try check(received.closedConnections.values.allSatisfy { $0 == nil }, "\(subject): orderly close reported an error")
        try check(clientSide.wait { $0.closedConnections.count == 1 }, "\(subject): the closing side was not told")
        do {
            try connection.send([1, 2, 3])
            throw ConformanceFailure("\(subject): send after close succeeded")
        } catch is TransportError {}
    }

    /// A malformed frame closes only its own connection; the others keep delivering everything.
    public static func malformedFrames(_ subject: any ConformanceSubject) throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let received = CollectingHandler()
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        let healthy = try harness.connect(to: listener)
        var sent = 0
        for (_, bytes) in MalformedFrames.all(limits: harness.limits) {
            try healthy.send(Sequence64.bytes(UInt64(sent)))
            sent += 1
            try subject.sendRaw(bytes, to: listener.address, transport: harness.client)
        }
        for _ in 0..<100 {
            try healthy.send(Sequence64.bytes(UInt64(sent)))
            sent += 1
        }
        let expectedFailures = MalformedFrames.all(limits: harness.limits).count
        try check(
            received.wait { handler in
                handler.closedConnections.values.filter { $0 != nil }.count >= expectedFailures
            },
            "\(subject): \(received.closedConnections.values.filter { $0 != nil }.count) of \(expectedFailures) malformed connections were closed with an error"
        )
        let healthyFrames = { received.frames.filter { $0.connection == received.frames.first?.connection } }
        try check(received.wait { _ in healthyFrames().count >= sent }, "\(subject): the healthy connection lost frames")
        let healthyValues = healthyFrames().map { Sequence64.value($0.payload).value }
        try check(healthyValues == (0..<UInt64(sent)).map { $0 }, "\(subject): the healthy connection's frames were disturbed")
        try check(!healthy.isClosed, "\(subject): the healthy connection was closed")
    }

    /// Reserve, copy, commit; false when the transport pushes back.
    static func sendWithoutWaiting(_ payload: [UInt8], on connection: any TransportConnection) throws -> Bool {
        guard let reservation = try reserveUnlessBlocked(payload.count, on: connection) else { return false }
        payload.withUnsafeBytes { reservation.payload.copyMemory(from: $0) }
        reservation.commit(kind: .data, length: payload.count)
        return true
    }

    static func reserveUnlessBlocked(_ capacity: Int, on connection: any TransportConnection) throws -> SendReservation? {
        do { return try connection.reserve(capacity: capacity) } catch {
            if case .wouldBlock = error { return nil }
            throw error
        }
    }

    static func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) throws {
        var threads: [pthread_t] = []
        for index in 0..<count {
            let box = Unmanaged.passRetained(ThreadBody { body(index) }).toOpaque()
            var thread: pthread_t = 0
            guard
                pthread_create(
                    &thread, nil,
                    { raw in
                        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
                        return nil
                    }, box) == 0
            else { throw ConformanceFailure("pthread_create failed") }
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
    }
}

final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
