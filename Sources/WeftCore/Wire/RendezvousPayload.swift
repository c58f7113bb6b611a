/// The payload of a `rendezvousReady` frame (24 bytes): where a whole frame (header and
/// payload) waits in the sender's registered memory for the receiver's RDMA READ.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | address of the frame in the sender's memory (u64) |
/// | 8 | 4 | remote key of the memory region holding it (u32) |
/// | 12 | 4 | frame length in bytes, header included (u32, at least 32) |
/// | 16 | 8 | token (1, 2, 3 … per connection and direction) the receiver echoes in `rendezvousDone` (u64) |
public struct RendezvousReady: Equatable, Sendable {
    public static let size = 24

    public var address: UInt64
    public var remoteKey: UInt32
    public var frameLength: UInt32
    public var token: UInt64

    @inlinable
    public init(address: UInt64, remoteKey: UInt32, frameLength: UInt32, token: UInt64) {
        self.address = address
        self.remoteKey = remoteKey
        self.frameLength = frameLength
        self.token = token
    }

    /// Writes the 24 bytes at `base`.
    @inlinable @inline(__always)
    public func encode(to base: UnsafeMutableRawPointer) {
        base.storeBytes(of: address.littleEndian, toByteOffset: 0, as: UInt64.self)
        base.storeBytes(of: remoteKey.littleEndian, toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: frameLength.littleEndian, toByteOffset: 12, as: UInt32.self)
        base.storeBytes(of: token.littleEndian, toByteOffset: 16, as: UInt64.self)
    }

    /// Reads a payload that must be exactly 24 bytes and announce at least a frame header.
    @inlinable
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> RendezvousReady {
        guard bytes.count == size, let base = bytes.baseAddress else {
            throw .malformedPayload("a rendezvousReady payload is \(size) bytes, not \(bytes.count)")
        }
        let ready = RendezvousReady(
            address: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            remoteKey: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
            frameLength: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)),
            token: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
        guard Int(ready.frameLength) >= FrameLayout.headerSize else {
            throw .malformedPayload(
                "a rendezvousReady announces \(ready.frameLength) bytes, less than a frame header")
        }
        return ready
    }
}

/// The payload of a `rendezvousDone` frame (8 bytes): the token of the last `rendezvousReady`
/// whose frame the receiver has read (it answers every earlier one too).
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | token (u64) |
public struct RendezvousDone: Equatable, Sendable {
    public static let size = 8

    public var token: UInt64

    @inlinable
    public init(token: UInt64) { self.token = token }

    @inlinable @inline(__always)
    public func encode(to base: UnsafeMutableRawPointer) {
        base.storeBytes(of: token.littleEndian, toByteOffset: 0, as: UInt64.self)
    }

    /// Reads a payload that must be exactly 8 bytes.
    @inlinable
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> RendezvousDone {
        guard bytes.count == size, let base = bytes.baseAddress else {
            throw .malformedPayload("a rendezvousDone payload is \(size) bytes, not \(bytes.count)")
        }
        return RendezvousDone(
            token: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
    }
}
