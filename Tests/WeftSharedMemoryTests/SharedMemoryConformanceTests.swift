import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

#if canImport(Glibc)
    import Glibc
#endif

struct SharedMemorySubject: ConformanceSubject {
    let name = "shm"

    func makeTransport(context: TransportContext) throws -> any Transport {
        SharedMemoryTransport(context: context, ringBytes: 256 << 10)
    }

    func listenAddress() -> String { "weft-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    func sendRaw(_ bytes: [UInt8], to address: String, transport: any Transport) throws {
        let connection = try transport.connect(to: address, options: ConnectionOptions(), handler: CollectingHandler())
        try (connection as! SharedMemoryConnection).injectRawFrame(bytes)
    }
}

/// The conformance suite against shared memory. Serialized: the machine has two cores.
@Suite(.serialized) struct SharedMemoryConformanceTests {
    let subject = SharedMemorySubject()

    @Test(arguments: ConformanceCheck.allCases)
    func conforms(to check: ConformanceCheck) throws { try check.run(against: subject) }
}
