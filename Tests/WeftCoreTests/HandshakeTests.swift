import Testing

@testable import WeftCore

/// The three-frame handshake, with and without the cluster secret.
struct HandshakeTests {
    let secretA = try! ClusterSecret(bytes: Array("a cluster secret of enough bytes".utf8))
    let secretB = try! ClusterSecret(bytes: Array("another secret, also long enough".utf8))

    /// Runs connector and acceptor against each other; returns both outcomes or the first error.
    private func run(connector: ClusterSecret?, acceptor: ClusterSecret?) -> Result<
        (HandshakeOutcome, HandshakeOutcome), TransportError
    > {
        Result { () throws(TransportError) in
            let nodeC = NodeIdentity(high: 1, low: 2)
            let nodeA = NodeIdentity(high: 3, low: 4)
            let c = ConnectorHandshake(node: nodeC, secret: connector, maxFramePayload: 1000)
            var a = AcceptorHandshake(node: nodeA, secret: acceptor, maxFramePayload: 2000)
            let hello = c.firstFrame()
            let reply = try hello.payload.withUnsafeBytes { bytes in
                Result { () throws(TransportError) in try a.receiveHello(kind: hello.kind, payload: bytes) }
            }.get()
            let (auth, connectorOutcome) = try reply.payload.withUnsafeBytes { bytes in
                Result { () throws(TransportError) in try c.receiveReply(kind: reply.kind, payload: bytes) }
            }.get()
            let acceptorOutcome = try auth.payload.withUnsafeBytes { bytes in
                Result { () throws(TransportError) in try a.receiveAuth(kind: auth.kind, payload: bytes) }
            }.get()
            return (connectorOutcome, acceptorOutcome)
        }
    }

    @Test func unauthenticatedPeersLearnEachOther() throws {
        let (c, a) = try run(connector: nil, acceptor: nil).get()
        #expect(c.peerNode == NodeIdentity(high: 3, low: 4) && c.peerMaxFramePayload == 2000)
        #expect(a.peerNode == NodeIdentity(high: 1, low: 2) && a.peerMaxFramePayload == 1000)
    }

    @Test func sameSecretAuthenticatesBothWays() throws {
        _ = try run(connector: secretA, acceptor: secretA).get()
    }

    @Test func differentSecretsFail() {
        guard case .failure(.handshakeFailed(let why)) = run(connector: secretA, acceptor: secretB) else {
            Issue.record("different secrets were accepted")
            return
        }
        #expect(why.contains("proof"))
    }

    @Test func aSecretOnOneSideOnlyFails() {
        guard case .failure(.handshakeFailed) = run(connector: nil, acceptor: secretA) else {
            Issue.record("a connector without the secret was accepted")
            return
        }
        guard case .failure(.handshakeFailed) = run(connector: secretA, acceptor: nil) else {
            Issue.record("an acceptor without the secret was accepted")
            return
        }
    }

    @Test func aTamperedProofFails() throws {
        let c = ConnectorHandshake(node: .random(), secret: secretA, maxFramePayload: 1)
        var a = AcceptorHandshake(node: .random(), secret: secretA, maxFramePayload: 1)
        let hello = c.firstFrame()
        var reply = try hello.payload.withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try a.receiveHello(kind: hello.kind, payload: bytes) }
        }.get()
        reply.payload[reply.payload.count - 1] ^= 1
        let outcome = reply.payload.withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try c.receiveReply(kind: reply.kind, payload: bytes) }
        }
        guard case .failure(.handshakeFailed) = outcome else {
            Issue.record("a tampered proof was accepted")
            return
        }
    }

    @Test func theSecretNeverCrossesTheWire() throws {
        let secretBytes = Array("a cluster secret of enough bytes".utf8)
        let c = ConnectorHandshake(node: .random(), secret: secretA, maxFramePayload: 1)
        var a = AcceptorHandshake(node: .random(), secret: secretA, maxFramePayload: 1)
        let hello = c.firstFrame()
        let reply = try hello.payload.withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try a.receiveHello(kind: hello.kind, payload: bytes) }
        }.get()
        for frame in [hello, reply] {
            let wire = frame.encoded()
            #expect(!wire.indices.contains { wire[$0...].starts(with: secretBytes.prefix(8)) })
        }
    }

    @Test func dataBeforeTheHandshakeIsRejected() {
        var a = AcceptorHandshake(node: .random(), secret: nil, maxFramePayload: 1)
        let result = [UInt8](repeating: 0, count: 64).withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try a.receiveHello(kind: .data, payload: bytes) }
        }
        guard case .failure(.protocolViolation(.unexpectedKind(.data, _))) = result else {
            Issue.record("data before hello was accepted")
            return
        }
    }
}
