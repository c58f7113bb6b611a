import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftLocal

#if canImport(Glibc)
    import Glibc
#endif

struct LocalSubject: ConformanceSubject {
    let name = "local"

    func makeTransport(context: TransportContext) throws -> any Transport {
        LocalTransport(context: context, ringBytes: 256 << 10)
    }

    func listenAddress() -> String { "weft-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    func sendRaw(_ bytes: [UInt8], to address: String, transport: any Transport) throws {
        let connection = try transport.connect(to: address, options: ConnectionOptions(), handler: CollectingHandler())
        try (connection as! LocalConnection).injectRawFrame(bytes)
    }
}

/// The conformance suite against the in-process transport. Serialized: the machine has two cores.
@Suite(.serialized) struct LocalConformanceTests {
    let subject = LocalSubject()

    @Test(arguments: ConformanceCheck.allCases)
    func conforms(to check: ConformanceCheck) throws { try check.run(against: subject) }

    /// A received view points into the receiving end's ring: no copy by Weft.
    @Test func receiveIsZeroCopy() throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        let received = CollectingHandler()
        let inside = Locked(0)
        received.inspect = { frame, connection in
            if (connection as! LocalConnection).isInReceiveRing(frame.payloadBaseAddress) { inside.withLock { $0 += 1 } }
        }
        let listener = try harness.listen { _ in received }
        defer { listener.close() }
        let connection = try harness.connect(to: listener)
        for index in 0..<100 { try connection.send(Sequence64.bytes(UInt64(index))) }
        #expect(received.wait { $0.frameCount >= 100 })
        #expect(inside.withLock { $0 } == 100)
    }

    @Test func connectingToNoListenerFailsAtOnce() throws {
        let harness = try ConformanceHarness(subject)
        defer { harness.shutdown() }
        #expect(throws: TransportError.self) {
            _ = try harness.client.connect(to: "local:nobody-here", options: ConnectionOptions(), handler: CollectingHandler())
        }
    }
}
