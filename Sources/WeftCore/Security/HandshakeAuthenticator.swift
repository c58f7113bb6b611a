import Crypto

/// Challenge-response over the cluster secret (HMAC-SHA256), both directions.
///
/// The acceptor proves itself in `helloReply` with
/// `HMAC(secret, "weft-accept" | connector nonce | acceptor nonce | connector node | acceptor node)`,
/// and the connector answers in `auth` with the same over "weft-connect". Each side's
/// proof covers the other's fresh nonce, so a recorded exchange cannot be replayed.
package struct HandshakeAuthenticator: Sendable {
    public enum Role: String, Sendable {
        case acceptor = "weft-accept"
        case connector = "weft-connect"
    }

    let secret: ClusterSecret

    public init(secret: ClusterSecret) { self.secret = secret }

    public func proof(
        role: Role, connector: HandshakePayload, acceptor: HandshakePayload
    ) -> [UInt8] {
        var mac = HMAC<SHA256>(key: secret.key)
        mac.update(data: Array(role.rawValue.utf8))
        mac.update(data: connector.nonce)
        mac.update(data: acceptor.nonce)
        for node in [connector.node, acceptor.node] {
            withUnsafeBytes(of: node.high.littleEndian) { mac.update(data: $0) }
            withUnsafeBytes(of: node.low.littleEndian) { mac.update(data: $0) }
        }
        return Array(mac.finalize())
    }

    /// Checks a proof in constant time.
    public func verify(
        _ candidate: some Collection<UInt8>, role: Role, connector: HandshakePayload, acceptor: HandshakePayload
    ) -> Bool {
        let expected = proof(role: role, connector: connector, acceptor: acceptor)
        guard candidate.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, expected) { difference |= a ^ b }
        return difference == 0
    }
}
