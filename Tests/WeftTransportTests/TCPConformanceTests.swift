import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

/// The TCP transport as a conformance subject: loopback, port 0.
struct TCPSubject: ConformanceSubject {
    let name = "tcp"

    func makeTransport(context: TransportContext) throws -> any Transport {
        TCPTransport(context: context)
    }

    func listenAddress() -> String { "127.0.0.1:0" }

    /// Completes a real handshake as `transport`'s node, then writes `bytes` unframed.
    func sendRaw(_ bytes: [UInt8], to address: String, transport: any Transport) throws {
        let raw = try TCPRawClient(handshakingWith: address, context: (transport as! TCPTransport).context)
        try raw.write(bytes)
        // Wait for the acceptor to close it, so the suite counts a settled connection.
        _ = raw.readUntilClosed()
    }
}

extension TCPTests {
    /// The generic conformance suite against TCP.
    @Suite struct Conformance {
        let subject = TCPSubject()

        @Test(arguments: ConformanceCheck.allCases)
        func conforms(to check: ConformanceCheck) throws { try check.run(against: subject) }
    }
}
