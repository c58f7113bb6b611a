/// The payload of `hello` and `helloReply` frames (64 bytes, plus a 32-byte proof in `helloReply`).
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | protocol version (u32) |
/// | 4 | 4 | flags (bit 0: sender authenticates with the cluster secret) |
/// | 8 | 16 | node identity (high u64, low u64) |
/// | 24 | 32 | nonce |
/// | 56 | 4 | largest frame payload the sender accepts (u32) |
/// | 60 | 4 | reserved, zero |
/// | 64 | 32 | proof (`helloReply` only): HMAC-SHA256, see `HandshakeAuthenticator` |
package struct HandshakePayload: Equatable, Sendable {
    public static let size = 64
    public static let proofSize = 32
    public static let authenticatedFlag: UInt32 = 1

    public var protocolVersion: UInt32
    public var authenticated: Bool
    public var node: NodeIdentity
    public var nonce: [UInt8]
    public var maxFramePayload: UInt32

    public init(
        protocolVersion: UInt32 = UInt32(FrameLayout.version), authenticated: Bool, node: NodeIdentity,
        nonce: [UInt8], maxFramePayload: UInt32
    ) {
        precondition(nonce.count == 32, "a handshake nonce is 32 bytes")
        self.protocolVersion = protocolVersion
        self.authenticated = authenticated
        self.node = node
        self.nonce = nonce
        self.maxFramePayload = maxFramePayload
    }

    public func encode(to base: UnsafeMutableRawPointer) {
        base.storeBytes(of: protocolVersion.littleEndian, toByteOffset: 0, as: UInt32.self)
        base.storeBytes(
            of: (authenticated ? Self.authenticatedFlag : 0).littleEndian, toByteOffset: 4, as: UInt32.self)
        base.storeBytes(of: node.high.littleEndian, toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: node.low.littleEndian, toByteOffset: 16, as: UInt64.self)
        nonce.withUnsafeBytes { (base + 24).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        base.storeBytes(of: maxFramePayload.littleEndian, toByteOffset: 56, as: UInt32.self)
        base.storeBytes(of: UInt32(0), toByteOffset: 60, as: UInt32.self)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> HandshakePayload {
        guard bytes.count >= size else {
            throw .malformedPayload("handshake payload is \(bytes.count) bytes, needs \(size)")
        }
        let base = bytes.baseAddress!
        let version = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard version == UInt32(FrameLayout.version) else {
            throw .unsupportedVersion(UInt8(truncatingIfNeeded: version))
        }
        let flags = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard flags & ~authenticatedFlag == 0 else { throw .malformedPayload("unknown handshake flags") }
        guard base.loadUnaligned(fromByteOffset: 60, as: UInt32.self) == 0 else { throw .reservedNotZero }
        return HandshakePayload(
            protocolVersion: version, authenticated: flags & authenticatedFlag != 0,
            node: NodeIdentity(
                high: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                low: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self))),
            nonce: Array(UnsafeRawBufferPointer(rebasing: bytes[24..<56])),
            maxFramePayload: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 56, as: UInt32.self)))
    }

    public static func randomNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
