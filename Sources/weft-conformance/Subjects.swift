import WeftConformance
import WeftCore
import WeftTIPC
import WeftVerbs

/// The transports this runner can check, by name.
enum ConformanceSubjects {
    static let names = ["tipc", "verbs"]

    static func subject(named name: String) -> (any ConformanceSubject)? {
        switch name {
        case "tipc": return TIPCSubject()
        case "verbs": return VerbsSubject()
        default: return nil
        }
    }
}

/// TIPC as a conformance subject: a free instance of the default service type, both ends
/// holding the same cluster secret (a TIPC listener refuses to start without one).
struct TIPCSubject: ConformanceSubject {
    let name = "tipc"
    static let secret = try! ClusterSecret(bytes: Array("weft-conformance-secret-0123456789".utf8))

    func makeTransport(context: TransportContext) throws -> any Transport {
        var context = context
        context.secret = Self.secret
        return TIPCTransport(context: context)
    }

    func listenAddress() -> String { TIPCTransport.anyInstance }

    func sendRaw(_ bytes: [UInt8], to address: String, transport: any Transport) throws {
        try TIPCRawPeer.send(bytes, to: address, transport: transport as! TIPCTransport)
    }
}

/// Verbs as a conformance subject: the first RDMA device with an active port, listening on
/// its interface's IPv4 address (rxe loops back there, never on 127.0.0.1), both ends
/// holding the same cluster secret. Rendezvous regions of 256 KiB keep 64 connections a side
/// small in registered memory and send the suite's largest messages as fragments that are
/// each read by RDMA.
struct VerbsSubject: ConformanceSubject {
    let name = "verbs"
    static let configuration = VerbsConfiguration(rendezvousBytes: 256 << 10)
    static let secret = try! ClusterSecret(bytes: Array("weft-conformance-verbs-secret-0123456789".utf8))

    func makeTransport(context: TransportContext) throws -> any Transport {
        var context = context
        context.secret = Self.secret
        return try VerbsTransport(context: context, configuration: Self.configuration)
    }

    func listenAddress() -> String { VerbsInterfaceAddress.listenAddress() ?? "127.0.0.1:0" }

    func sendRaw(_ bytes: [UInt8], to address: String, transport: any Transport) throws {
        try VerbsRawPeer.send(bytes, to: address, transport: transport as! VerbsTransport)
    }
}
