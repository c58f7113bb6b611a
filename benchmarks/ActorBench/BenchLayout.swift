import BarrelsGame
import WeftCore
import WeftSharedMemory
import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

/// Where the two sides of a run meet: the transport, and the addresses of the raw echo
/// listener and of the two actor systems ("caller", "callee"). Passed to a callee process
/// as `--callee-of` text.
struct BenchLayout {
    var transport: String
    var raw: String
    var members: [String: String]

    /// Fresh addresses for `transport` (shm names unique to this process, or free loopback ports).
    static func make(transport: String) throws -> BenchLayout {
        let addresses = try ClusterAddresses.make(transport: transport, count: 3, tag: "actor-bench-\(getpid())")
        let names = addresses.keys.sorted()
        return BenchLayout(
            transport: transport, raw: addresses[names[0]]!,
            members: ["caller": addresses[names[1]]!, "callee": addresses[names[2]]!])
    }

    /// `TRANSPORT;RAW;NAME=ADDRESS,…`.
    var encoded: String { "\(transport);\(raw);\(ClusterAddresses.encode(members))" }

    init(transport: String, raw: String, members: [String: String]) {
        self.transport = transport
        self.raw = raw
        self.members = members
    }

    init(decoding text: String) throws {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw ClusterSetupError("--callee-of takes TRANSPORT;RAW;MEMBERS, not '\(text)'") }
        self.init(transport: parts[0], raw: parts[1], members: try ClusterAddresses.decode(parts[2]))
    }

    /// The transport over `context`: 1 MiB shm rings, or TCP with its defaults.
    func makeTransport(_ context: TransportContext) -> any Transport {
        transport == "tcp"
            ? TCPTransport(context: context) : SharedMemoryTransport(context: context, ringBytes: 1 << 20)
    }
}
