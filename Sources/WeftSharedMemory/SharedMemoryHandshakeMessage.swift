import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A handshake frame as one SOCK_SEQPACKET message, with descriptors alongside.
enum SharedMemoryHandshakeMessage {
    static let maxSize = FrameLayout.headerSize + HandshakePayload.size + HandshakePayload.proofSize

    static func send(_ frame: HandshakeFrame, fds: [Int32], on socket: Int32) throws(TransportError) {
        do { try SharedMemorySyscalls.send(socket, bytes: frame.encoded(), fds: fds) } catch { throw .system(error) }
    }

    /// Decodes one received message; closes its descriptors when it is rejected.
    static func decode(
        _ message: (bytes: [UInt8], fds: [Int32]), limits: FrameLimits
    ) throws(TransportError) -> (kind: MessageKind, payload: [UInt8], fds: [Int32]) {
        switch parse(message.bytes, limits: limits) {
        case .success(let (kind, payload)): return (kind, payload, message.fds)
        case .failure(let error):
            closeAll(message.fds)
            throw error
        }
    }

    private static func parse(_ bytes: [UInt8], limits: FrameLimits) -> Result<(MessageKind, [UInt8]), TransportError> {
        guard bytes.count >= FrameLayout.headerSize else {
            return .failure(.protocolViolation(.truncated(have: bytes.count, need: FrameLayout.headerSize)))
        }
        let decoded = bytes.withUnsafeBytes { FrameHeader.decode(from: $0.baseAddress!, limits: limits) }
        switch decoded {
        case .failure(let error): return .failure(.protocolViolation(error))
        case .success(let header):
            let whole = FrameLayout.headerSize + Int(header.payloadLength)
            guard whole == bytes.count else {
                return .failure(.protocolViolation(.truncated(have: bytes.count, need: whole)))
            }
            return .success((header.kind, Array(bytes[FrameLayout.headerSize...])))
        }
    }

    static func closeAll(_ fds: [Int32]) {
        for fd in fds { Glibc.close(fd) }
    }
}
