import WeftCore

/// What each side puts in rdma_cm's private data (connect and accept), 24 bytes, little-endian:
///
/// | offset | size | field |
/// |---:|---:|---|
/// | 0 | 4 | magic "WEFT" (0x54464557) |
/// | 4 | 1 | protocol version (1) |
/// | 5 | 3 | reserved, 0 |
/// | 8 | 4 | receive credits: data frames the sender of this block can take before it grants more |
/// | 12 | 4 | receive buffer bytes: the largest frame (header included) one send may carry to it |
/// | 16 | 4 | rendezvous bytes: the largest frame (header included) it reads by RDMA rendezvous; 0: none |
/// | 20 | 4 | reserved, 0 |
///
/// The Weft handshake itself (hello, helloReply, auth) runs over the queue pair once it is
/// connected: a 64-byte hello does not fit the 56 bytes a connect request carries.
struct VerbsPrivateData: Equatable, Sendable {
    static let size = 24
    var receiveCredits: UInt32
    var bufferBytes: UInt32
    var rendezvousBytes: UInt32

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: FrameLayout.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: FrameLayout.version, toByteOffset: 4, as: UInt8.self)
            raw.storeBytes(of: receiveCredits.littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: bufferBytes.littleEndian, toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: rendezvousBytes.littleEndian, toByteOffset: 16, as: UInt32.self)
        }
        return bytes
    }

    /// Nil when the block is not a Weft verbs peer's (wrong size, magic, version or values).
    static func decode(_ bytes: [UInt8]) -> VerbsPrivateData? {
        guard bytes.count >= size else { return nil }
        return bytes.withUnsafeBytes { raw -> VerbsPrivateData? in
            guard UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == FrameLayout.magic,
                raw.load(fromByteOffset: 4, as: UInt8.self) == FrameLayout.version
            else { return nil }
            let credits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let buffer = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            let rendezvous = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            guard credits >= 1, buffer >= UInt32(FrameLayout.headerSize + 8),
                rendezvous == 0 || rendezvous > UInt32(FrameLayout.headerSize),
                raw.loadUnaligned(fromByteOffset: 20, as: UInt32.self) == 0
            else { return nil }
            return VerbsPrivateData(receiveCredits: credits, bufferBytes: buffer, rendezvousBytes: rendezvous)
        }
    }
}
