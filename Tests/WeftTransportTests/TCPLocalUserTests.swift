import CWeftTCP
import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

extension TCPTests {
    /// Loopback without a cluster secret: only processes of the listener's own user get in,
    /// told by the kernel's socket table, unless `allow-unauthenticated-peers` is set.
    @Suite struct LocalUsers {
        /// Both ways of asking the kernel name the user that owns the peer's socket.
        @Test(
            .enabled(if: OtherUserProcess.isAvailable, "\(OtherUserProcess.notRootReason)"),
            arguments: TCPPeerUser.Source.allCases)
        func kernelTablesNameThePeersUser(source: TCPPeerUser.Source) throws {
            for host in ["127.0.0.1", "::1"] {
                let listening = try TCPRawListener(host: host)
                let stranger = try OtherUserProcess.Running([
                    "pingpong", "--transport", "tcp", "--connect", listening.address, "--count", "1", "--timeout", "3",
                ])
                let accepted = try listening.accept()
                defer { TCPSocket.close(accepted.fd) }
                let local = try TCPSocket.localAddress(accepted.fd)
                #expect(TCPPeerUser.owner(ofPeer: accepted.peer, connectedTo: local, from: source) == OtherUserProcess.uid)
                // Our own end of the same connection belongs to us.
                #expect(TCPPeerUser.owner(ofPeer: local, connectedTo: accepted.peer, from: source) == geteuid())
                TCPSocket.close(accepted.fd)
                _ = stranger.wait()
            }
        }

        /// Another user's `weft` is refused with one sentence, in the listener's log and in the
        /// connector's error; this user's processes still get in.
        @Test(.enabled(if: OtherUserProcess.isAvailable, "\(OtherUserProcess.notRootReason)"))
        func anotherUserIsRefused() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            let listener = try pair.listen { _ in EchoHandler() }
            defer { listener.close() }
            let outcome = try OtherUserProcess.runWeft([
                "pingpong", "--transport", "tcp", "--connect", listener.address, "--count", "10", "--timeout", "5",
            ])
            #expect(outcome.status != 0)
            #expect(outcome.standardError.contains("uid \(OtherUserProcess.uid) may not connect"), "\(outcome.standardError)")
            #expect(pair.serverLog.wait(for: "refusing TCP connection"))
            #expect(pair.serverLog.contains("uid \(OtherUserProcess.uid) may not connect"))

            let replies = CollectingHandler()
            let connection = try pair.connect(to: listener, handler: replies)
            try connection.send([1, 2, 3], kind: .request, correlation: 4)
            #expect(replies.wait { $0.frameCount == 1 })
            connection.close()
        }

        /// `allow-unauthenticated-peers` admits every local user (documented as unsafe).
        @Test(.enabled(if: OtherUserProcess.isAvailable, "\(OtherUserProcess.notRootReason)"))
        func allowUnauthenticatedPeersAdmitsOtherUsers() throws {
            let pair = try TCPPair(configuration: TCPConfiguration(allowUnauthenticatedPeers: true))
            defer { pair.shutdown() }
            let listener = try pair.listen { _ in EchoHandler() }
            defer { listener.close() }
            let outcome = try OtherUserProcess.runWeft([
                "pingpong", "--transport", "tcp", "--connect", listener.address, "--count", "10", "--warmup", "0",
                "--timeout", "5",
            ])
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(!pair.serverLog.contains("refusing TCP connection"))
        }

        /// The configuration key reaches the transport.
        @Test func configurationKeyReachesTheTransport() async throws {
            let loader = try await ConfigurationLoader.load(
                flags: [ConfigKeys.allowUnauthenticatedPeers.key: "true"], environment: [:])
            #expect(TCPConfiguration(try WeftConfiguration(loader)).allowUnauthenticatedPeers)
            #expect(!TCPConfiguration().allowUnauthenticatedPeers)
        }

        /// /proc/net/tcp as recorded: the row of the peer's socket gives its uid.
        @Test func procTableRowGivesTheUID() {
            let table = """
                  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0
                   1: 0100007F:D78C 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 2 2 0
                   2: 0100007F:1F90 0100007F:D78C 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0
                """
            let bytes = Array(table.utf8)
            #expect(TCPPeerUser.ownerInProcTable(bytes, local: "0100007F:D78C", remote: "0100007F:1F90") == 65534)
            #expect(TCPPeerUser.ownerInProcTable(bytes, local: "0100007F:1F90", remote: "0100007F:D78C") == 1000)
            #expect(TCPPeerUser.ownerInProcTable(bytes, local: "0100007F:0001", remote: "0100007F:1F90") == nil)
        }
    }
}

/// A plain listening socket (no Weft handshake), to look at accepted sockets directly.
struct TCPRawListener {
    let fd: Int32
    let address: String

    init(host: String) throws {
        let resolved = try TCPSocket.resolve(TCPEndpoint(host: host, port: 0), passive: true)[0]
        fd = try TCPSocket.open(family: resolved.family)
        try TCPSocket.bindAndListen(fd, at: resolved, backlog: 4)
        address = try TCPSocket.localAddress(fd).description
    }

    /// Waits up to 10 s for one connection.
    func accept() throws -> (fd: Int32, peer: TCPAddress) {
        defer { TCPSocket.close(fd) }
        guard try TCPSocket.wait(fd, for: CWEFT_TCP_POLLIN, until: TCPClock.now + 10_000_000_000),
            let accepted = try TCPSocket.accept(fd)
        else { throw TransportError.timedOut("no connection to \(address)") }
        return accepted
    }
}
