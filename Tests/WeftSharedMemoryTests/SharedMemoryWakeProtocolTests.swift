import Foundation
import Logging
import Synchronization
import Testing
import WeftConformance
import WeftCore

@testable import WeftSharedMemory

#if canImport(Glibc)
    import Glibc
#endif

/// Counts responses.
private final class CountingClient: ConnectionHandler, @unchecked Sendable {
    let answered = Atomic<Int>(0)

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        if frame.kind == .response { answered.wrappingAdd(1, ordering: .releasing) }
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) {}
}

/// The ring's wake-up handshake as each side declares it at setup (`WakeProtocol`): an
/// adaptive consumer runs a global membarrier before it sleeps, so its producer skips the
/// per-message fence; a sleep-mode consumer keeps the producer's fence.
@Suite(.serialized) struct SharedMemoryWakeProtocolTests {
    private func pair(
        _ mode: ProgressMode, spinWindow: Duration = .microseconds(20), server: @escaping @Sendable () -> any ConnectionHandler,
        client: any ConnectionHandler
    ) throws -> (IORuntime, IORuntime, any TransportListener, SharedMemoryConnection) {
        var logger = Logger(label: "weft.test.wake")
        logger.logLevel = .warning
        let serverRuntime = try IORuntime(progress: mode, spinWindow: spinWindow, name: "wake-srv")
        let clientRuntime = try IORuntime(progress: mode, spinWindow: spinWindow, name: "wake-cli")
        let serverTransport = SharedMemoryTransport(
            context: TransportContext(runtime: serverRuntime, logger: logger), ringBytes: 64 << 10)
        let clientTransport = SharedMemoryTransport(
            context: TransportContext(runtime: clientRuntime, logger: logger), ringBytes: 64 << 10)
        let listener = try serverTransport.listen(
            at: SharedMemorySubject().listenAddress(), options: ConnectionOptions(), handler: { _ in server() })
        let connection = try clientTransport.connect(to: listener.address, options: ConnectionOptions(), handler: client)
        return (serverRuntime, clientRuntime, listener, connection as! SharedMemoryConnection)
    }

    @Test(arguments: [(ProgressMode.adaptive, WakeProtocol.consumerBarrier), (.sleep, .producerFence)])
    func theConsumersModeDecidesTheProducersFence(mode: ProgressMode, expected: WakeProtocol) throws {
        try #require(
            GlobalMembarrier.registered,
            "this kernel refuses membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED), which the adaptive wake-up needs")
        let accepted = CollectingHandler()
        let (serverRuntime, clientRuntime, listener, connection) = try pair(
            mode, server: { accepted }, client: CollectingHandler())
        defer {
            listener.close()
            clientRuntime.shutdown()
            serverRuntime.shutdown()
        }
        try connection.send([1], kind: .data)  // the server's handler learns its connection from a frame
        #expect(accepted.wait { !$0.connections.isEmpty })
        let serverSide = try #require(accepted.connections.first as? SharedMemoryConnection)
        #expect(connection.region.wakeProtocol(ofConnector: true) == expected)
        #expect(connection.region.wakeProtocol(ofConnector: false) == expected)
        for side in [connection, serverSide] {
            #expect(side.producer.pointee.consumerWakeFD >= 0)
            #expect(side.producer.pointee.fencesBeforeWakeCheck == (expected == .producerFence))
        }
    }

    @Test func aSpinningConsumerIsNeverCheckedForSleep() throws {
        let (serverRuntime, clientRuntime, listener, connection) = try pair(
            .spin, server: { CollectingHandler() }, client: CollectingHandler())
        defer {
            listener.close()
            clientRuntime.shutdown()
            serverRuntime.shutdown()
        }
        #expect(connection.producer.pointee.consumerWakeFD == -1)
    }

    /// Both IO threads sleep as soon as they are idle (a 1 µs window), and the test thread
    /// sends each request 200 µs after the previous answer, so every request finds the
    /// server's consumer asleep and every answer the client's (with no pause, a slow thread,
    /// as under ThreadSanitizer, was often still on its way to sleep when the next request
    /// came, and slept in barely half the rounds): the producer's check of the flag, on
    /// its cheaper path, must wake them every time (without it the exchange waits for timer
    /// ticks and does not finish). It cannot catch the rare race the barrier closes, where a
    /// record lands between the flag's store and the re-check: that rests on the ordering
    /// argument (docs/architecture.md).
    @Test func roundTripsToSleepingConsumersAreNeverLost() throws {
        let rounds = 2000
        let client = CountingClient()
        let (serverRuntime, clientRuntime, listener, connection) = try pair(
            .adaptive, spinWindow: .microseconds(1), server: { EchoHandler() }, client: client)
        defer {
            listener.close()
            clientRuntime.shutdown()
            serverRuntime.shutdown()
        }
        let slept = voluntarySwitches(ofThreadsNamed: "wake-")
        let deadline = ContinuousClock.now + .seconds(60)
        for round in 1...rounds {
            try connection.send([UInt8](repeating: 7, count: 8), kind: .request)
            while client.answered.load(ordering: .acquiring) < round && ContinuousClock.now < deadline { usleep(20) }
            usleep(200)
        }
        #expect(client.answered.load(ordering: .acquiring) == rounds)
        // The IO threads did sleep between messages (each sleep is a voluntary switch).
        let sleeps = voluntarySwitches(ofThreadsNamed: "wake-") - slept
        #expect(sleeps >= rounds, "the IO threads slept \(sleeps) times in \(rounds) round trips")
    }

    /// Voluntary context switches of this process's threads whose name starts with `prefix`.
    private func voluntarySwitches(ofThreadsNamed prefix: String) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var total = 0
        for task in tasks {
            guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                name.hasPrefix(prefix),
                let status = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("voluntary_ctxt_switches:") }),
                let count = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
            else { continue }
            total += count
        }
        return total
    }
}
