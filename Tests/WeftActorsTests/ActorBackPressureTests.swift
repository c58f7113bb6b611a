import Foundation
import Logging
import Testing
import WeftConformance
import WeftCore
import WeftTCP

@testable import WeftActors
@testable import WeftLocal

/// A peer that sends calls and never reads the replies stalls on its own connection: the
/// node serves a bounded number of its calls, keeps a bounded number of replies, then reads
/// nothing more from it, while every other caller is answered.
@Suite(.serialized) struct ActorBackPressureTests {
    @Test func callerThatNeverReadsItsRepliesStallsAlone() async throws {
        let spy = "spy-\(UInt32.random(in: 0...UInt32.max))"
        let probe = try ActorCluster(["a"], extra: ["spy": "local:\(spy)"])
        let echo = try await CapturedCall.identifier(probe, spy: spy) { system in
            _ = try await Counter.resolve(id: .instance(1, on: "spy"), using: system).echo(
                Payload(name: "", scores: [], tags: [:], nested: [], small: 0, ratio: 0))
        }
        probe.shutdown()
        let limit = 64
        let cluster = try ActorCluster(["a", "b"], medium: .tcp, maxUnansweredCalls: limit)
        defer { cluster.shutdown() }
        let counter = Counter(actorSystem: cluster["b"])
        var logger = Logger(label: "weft.test.flood")
        logger.logLevel = .critical
        let raw = TCPTransport(context: TransportContext(runtime: cluster.runtimes[0], logger: logger))
        let deaf = CollectingHandler()
        deaf.hold.store(true, ordering: .releasing)
        let flooder = try raw.connect(to: cluster.membership.address(of: "b")!, options: ConnectionOptions(), handler: deaf)
        defer { flooder.close() }

        // Each call carries 4 KiB and is answered with the same; the peer reads no answer.
        let payload = Payload(
            name: "flood", scores: (0..<512).map(Double.init), tags: [:], nested: [], small: 0, ratio: 0)
        let request = try CapturedCall.request(counter.id, method: echo, arguments: [payload])
        let memoryBefore = Self.residentBytes()
        let calls = 20_000
        var sent = 0
        while sent < calls {
            do {
                try request.withUnsafeBytes {
                    try flooder.send($0, header: FrameHeader(kind: .request, correlation: UInt64(sent + 1)), timeout: .seconds(1))
                }
                sent += 1
            } catch {
                break
            }
        }
        #expect(sent < calls, "node b kept taking calls from a peer that reads none of the replies")
        #expect(!flooder.isClosed, "the stalled peer should stay connected")

        // Another caller is answered at once.
        let remote = try Counter.resolve(id: counter.id, using: cluster["a"])
        for amount in 1...20 {
            let total = try await withCallTimeout(.seconds(2)) { try await remote.add(amount) }
            #expect(total == amount * (amount + 1) / 2)
        }
        let growth = Self.residentBytes() - memoryBefore
        #expect(
            growth < (128 << 20) + Self.addressSanitizerQuarantine,
            "the node grew by \(growth >> 20) MiB for a peer that does not read")
        deaf.releaseHeld()
    }

    /// What AddressSanitizer keeps of freed memory before reusing it (its default quarantine),
    /// when this process runs under it: the figure the test bounds is RSS, which includes it.
    /// The unsanitized run holds the node to the bound alone.
    static var addressSanitizerQuarantine: Int {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") == nil ? 0 : 256 << 20
    }

    /// This process's VmRSS, in bytes.
    static func residentBytes() -> Int {
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/status") else { return 0 }
        defer { try? handle.close() }
        let status = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) << 10
    }
}
