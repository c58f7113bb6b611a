/// One frame to send during the handshake (setup path: plain arrays are fine here).
package struct HandshakeFrame: Sendable, Equatable {
    public var kind: MessageKind
    public var payload: [UInt8]

    package init(kind: MessageKind, payload: [UInt8]) {
        self.kind = kind
        self.payload = payload
    }

    /// Header followed by payload, ready for a socket.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: FrameLayout.headerSize + payload.count)
        bytes.withUnsafeMutableBytes { raw in
            FrameHeader(kind: kind, payloadLength: UInt32(payload.count)).encode(to: raw.baseAddress!)
            payload.withUnsafeBytes {
                (raw.baseAddress! + FrameLayout.headerSize).copyMemory(from: $0.baseAddress!, byteCount: payload.count)
            }
        }
        return bytes
    }
}

/// What both sides learn when the handshake completes.
package struct HandshakeOutcome: Sendable, Equatable {
    public var peerNode: NodeIdentity
    public var peerMaxFramePayload: Int
}

/// The connector's side: hello → (helloReply) → auth.
///
/// Both sides must agree on authentication: a side with a cluster secret refuses a peer
/// without one, so a secret-less process can never talk to a secured cluster by accident.
package struct ConnectorHandshake: Sendable {
    let authenticator: HandshakeAuthenticator?
    let hello: HandshakePayload

    public init(node: NodeIdentity, secret: ClusterSecret?, maxFramePayload: Int) {
        authenticator = secret.map(HandshakeAuthenticator.init)
        hello = HandshakePayload(
            authenticated: secret != nil, node: node, nonce: HandshakePayload.randomNonce(),
            maxFramePayload: UInt32(clamping: maxFramePayload))
    }

    public func firstFrame() -> HandshakeFrame {
        var payload = [UInt8](repeating: 0, count: HandshakePayload.size)
        payload.withUnsafeMutableBytes { hello.encode(to: $0.baseAddress!) }
        return HandshakeFrame(kind: .hello, payload: payload)
    }

    /// Checks the acceptor's `helloReply` and returns the `auth` frame to send.
    public func receiveReply(
        kind: MessageKind, payload: UnsafeRawBufferPointer
    ) throws(TransportError) -> (HandshakeFrame, HandshakeOutcome) {
        guard kind == .helloReply else {
            throw .protocolViolation(.unexpectedKind(kind, state: "waiting for helloReply"))
        }
        let reply: HandshakePayload
        do { reply = try HandshakePayload.decode(payload) } catch { throw .protocolViolation(error) }
        guard reply.authenticated == hello.authenticated else {
            throw .handshakeFailed(
                hello.authenticated
                    ? "the acceptor has no cluster secret but this side has one"
                    : "the acceptor requires a cluster secret; set --secret-file or WEFT_SECRET_FILE")
        }
        var authPayload: [UInt8] = []
        if let authenticator {
            guard payload.count == HandshakePayload.size + HandshakePayload.proofSize else {
                throw .protocolViolation(.malformedPayload("helloReply without a proof"))
            }
            let proof = payload[HandshakePayload.size...]
            guard authenticator.verify(proof, role: .acceptor, connector: hello, acceptor: reply) else {
                throw .handshakeFailed("the acceptor's proof does not match this side's cluster secret")
            }
            authPayload = authenticator.proof(role: .connector, connector: hello, acceptor: reply)
        }
        return (
            HandshakeFrame(kind: .auth, payload: authPayload),
            HandshakeOutcome(peerNode: reply.node, peerMaxFramePayload: Int(reply.maxFramePayload))
        )
    }
}

/// The acceptor's side: (hello) → helloReply → (auth).
package struct AcceptorHandshake: Sendable {
    let authenticator: HandshakeAuthenticator?
    let own: HandshakePayload
    private var peerHello: HandshakePayload?

    public init(node: NodeIdentity, secret: ClusterSecret?, maxFramePayload: Int) {
        authenticator = secret.map(HandshakeAuthenticator.init)
        own = HandshakePayload(
            authenticated: secret != nil, node: node, nonce: HandshakePayload.randomNonce(),
            maxFramePayload: UInt32(clamping: maxFramePayload))
    }

    /// Checks the connector's `hello` and returns the `helloReply` to send.
    public mutating func receiveHello(
        kind: MessageKind, payload: UnsafeRawBufferPointer
    ) throws(TransportError) -> HandshakeFrame {
        guard kind == .hello, peerHello == nil else {
            throw .protocolViolation(.unexpectedKind(kind, state: "waiting for hello"))
        }
        let hello: HandshakePayload
        do { hello = try HandshakePayload.decode(payload) } catch { throw .protocolViolation(error) }
        guard hello.authenticated == own.authenticated else {
            throw .handshakeFailed(
                own.authenticated
                    ? "the connector did not authenticate; it needs the cluster secret"
                    : "the connector authenticates but this side has no cluster secret")
        }
        peerHello = hello
        var reply = [UInt8](repeating: 0, count: HandshakePayload.size)
        reply.withUnsafeMutableBytes { own.encode(to: $0.baseAddress!) }
        if let authenticator { reply += authenticator.proof(role: .acceptor, connector: hello, acceptor: own) }
        return HandshakeFrame(kind: .helloReply, payload: reply)
    }

    /// Checks the connector's `auth`; the connection is established when this returns.
    public func receiveAuth(
        kind: MessageKind, payload: UnsafeRawBufferPointer
    ) throws(TransportError) -> HandshakeOutcome {
        guard kind == .auth, let hello = peerHello else {
            throw .protocolViolation(.unexpectedKind(kind, state: "waiting for auth"))
        }
        if let authenticator {
            guard authenticator.verify(payload, role: .connector, connector: hello, acceptor: own) else {
                throw .handshakeFailed("the connector's proof does not match this side's cluster secret")
            }
        } else if payload.count != 0 {
            throw .protocolViolation(.malformedPayload("auth carries a proof on an unauthenticated connection"))
        }
        return HandshakeOutcome(peerNode: hello.node, peerMaxFramePayload: Int(hello.maxFramePayload))
    }
}
