import WeftConformance
import WeftCore
import WeftTIPC

/// The transports this runner can check, by name.
enum ConformanceSubjects {
    static let names = ["tipc"]

    static func subject(named name: String) -> (any ConformanceSubject)? {
        switch name {
        case "tipc": return TIPCSubject()
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
