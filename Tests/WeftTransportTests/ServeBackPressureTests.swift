import Foundation
import Logging
import Testing
import WeftConformance
import WeftCore
import WeftSharedMemory
import WeftTCP

/// A client that sends requests and never reads the replies, against a real `weft serve`
/// with one IO thread: it stalls on its own connection, the server's memory stays bounded,
/// and another client on the same IO thread is answered all along.
extension TCPTests {
    @Suite struct ServeBackPressureTests {
        @Test func tcpPeerThatNeverReadsStallsAlone() throws {
            let server = try PeerProcess(
                ["serve", "--transport", "tcp", "--listen", "127.0.0.1:0", "--io-threads", "1", "--progress", "sleep"])
            try Self.checkBackPressure(server: server) { runtime in
                TCPTransport(context: TransportContext(runtime: runtime, logger: Self.quietLogger))
            }
        }

        @Test func shmPeerThatNeverReadsStallsAlone() throws {
            let server = try PeerProcess(
                [
                    "serve", "--transport", "shm", "--listen", "weft-pressure-\(getpid())", "--io-threads", "1", "--progress",
                    "sleep",
                ]
            )
            try Self.checkBackPressure(server: server) { runtime in
                SharedMemoryTransport(context: TransportContext(runtime: runtime, logger: Self.quietLogger), ringBytes: 256 << 10)
            }
        }

        static var quietLogger: Logger {
            var logger = Logger(label: "weft.test.pressure")
            logger.logLevel = .critical
            return logger
        }

        static func checkBackPressure(server: PeerProcess, transport make: (IORuntime) -> any WeftCore.Transport) throws {
            let runtime = try IORuntime(progress: .sleep, name: "pressure")
            defer { runtime.shutdown() }
            let transport = make(runtime)
            // The flooding client keeps the first reply unreleased: it reads nothing more.
            let deaf = CollectingHandler()
            deaf.hold.store(true, ordering: .releasing)
            let flooder = try transport.connect(to: server.address, options: ConnectionOptions(), handler: deaf)
            let memoryBefore = try residentBytes(of: server.process.processIdentifier)
            let request = patternBytes(4096)
            var accepted = 0
            let limit = 256 << 20
            while accepted < limit {
                do {
                    try request.withUnsafeBytes {
                        try flooder.send($0, header: FrameHeader(kind: .request, correlation: 1), timeout: .milliseconds(500))
                    }
                    accepted += request.count
                } catch {
                    break
                }
            }
            #expect(accepted < limit, "the server kept reading from a client that reads none of its replies")
            #expect(deaf.closedConnections.isEmpty, "the stalled client should stay connected, not be dropped")

            // Another client on the same IO thread is answered while the first one stalls.
            let started = ContinuousClock.now
            let other = CollectingHandler()
            let polite = try transport.connect(to: server.address, options: ConnectionOptions(), handler: other)
            defer { polite.close() }
            for index in 1...50 {
                try Sequence64.bytes(UInt64(index)).withUnsafeBytes {
                    try polite.send($0, header: FrameHeader(kind: .request, correlation: UInt64(index)), timeout: .seconds(1))
                }
                let answered = other.wait(timeout: .seconds(1)) { $0.frameCount == index }
                try #require(answered, "request \(index) of a reading client was not answered within a second")
            }

            let served = ContinuousClock.now - started
            #expect(served < .seconds(2), "a reading client waited \(served) to be connected and answered 50 times")
            #expect(deaf.closedConnections.isEmpty && !flooder.isClosed, "the stalled client should stay connected")
            let growth = try residentBytes(of: server.process.processIdentifier) - memoryBefore
            #expect(growth < 64 << 20, "the server grew by \(growth >> 20) MiB while one client did not read")
            deaf.releaseHeld()
            flooder.close()
        }

        /// VmRSS of a process, in bytes.
        static func residentBytes(of pid: Int32) throws -> Int {
            guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/status") else {
                throw PeerProcessError("process \(pid) is gone")
            }
            defer { try? handle.close() }
            let status = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
            else { throw PeerProcessError("no VmRSS for process \(pid)") }
            return kilobytes << 10
        }
    }
}
