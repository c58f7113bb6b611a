// libFuzzer target for the frame decoder and the handshake: whatever bytes arrive, decoding
// must never crash, never read past the input (AddressSanitizer watches), and what decodes
// must re-encode to the same bytes.
//
// Built by scripts/fuzz as ONE module together with WeftCore's wire and security sources
// (and fuzz/CryptoStandIn.swift in place of swift-crypto), so it uses those types without
// `import WeftCore`. See docs/fuzzing.md.

#if canImport(Glibc)
    import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func weftFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    fuzzFrameHeader(input)
    fuzzHandshakePayload(input)
    fuzzHandshakes(input)
    fuzzFrameThenHandshake(input)
    fuzzRendezvous(input)
    fuzzFragmentAssembly(input)
    return 0
}

/// Limits: the protocol's own and a small pair, so both the accept and the reject paths run.
private let limitSets = [FrameLimits(), FrameLimits(maxFramePayload: 4096, maxMessage: 65536)]

/// `FrameHeader.decode` on the first 32 bytes; a header that decodes re-encodes byte for byte.
private func fuzzFrameHeader(_ input: UnsafeRawBufferPointer) {
    guard input.count >= FrameLayout.headerSize, let base = input.baseAddress else { return }
    for limits in limitSets {
        guard case .success(let header) = FrameHeader.decode(from: base, limits: limits) else { continue }
        precondition(header.payloadLength <= limits.maxFramePayload, "decode let a frame past the limit through")
        var copy = [UInt8](repeating: 0xAA, count: FrameLayout.headerSize)
        copy.withUnsafeMutableBytes { header.encode(to: $0.baseAddress!) }
        precondition(copy.elementsEqual(input.prefix(FrameLayout.headerSize)), "header did not round-trip")
        _ = FrameHeader.paddedFrameSize(payload: Int(header.payloadLength))
    }
}

/// `HandshakePayload.decode` on the whole input and on what follows a header; a payload that
/// decodes re-encodes to its 64 bytes.
private func fuzzHandshakePayload(_ input: UnsafeRawBufferPointer) {
    for start in [0, min(FrameLayout.headerSize, input.count)] {
        let slice = UnsafeRawBufferPointer(rebasing: input[start...])
        guard let payload = try? HandshakePayload.decode(slice) else { continue }
        var copy = [UInt8](repeating: 0xAA, count: HandshakePayload.size)
        copy.withUnsafeMutableBytes { payload.encode(to: $0.baseAddress!) }
        precondition(copy.elementsEqual(slice.prefix(HandshakePayload.size)), "handshake payload did not round-trip")
    }
}

/// Drives both handshake sides with the input as the peer's frames. The first byte picks
/// which side has a cluster secret and the kinds the peer claims; the rest is the payload.
private func fuzzHandshakes(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 2 else { return }
    let control = input[0]
    let claimedKind = MessageKind(rawValue: input[1]) ?? .hello
    let payload = UnsafeRawBufferPointer(rebasing: input[2...])
    let secret = control & 1 != 0 ? fuzzSecret : nil

    var acceptor = AcceptorHandshake(node: NodeIdentity(high: 1, low: 2), secret: secret, maxFramePayload: 1 << 20)
    if (try? acceptor.receiveHello(kind: claimedKind, payload: payload)) != nil {
        // A hello got through: the same bytes, then its tail, as the auth that follows.
        _ = try? acceptor.receiveAuth(kind: control & 2 != 0 ? .auth : claimedKind, payload: payload)
        let tail = UnsafeRawBufferPointer(rebasing: payload[min(HandshakePayload.size, payload.count)...])
        _ = try? acceptor.receiveAuth(kind: .auth, payload: tail)
    }
    // A second hello on the same acceptor must be refused, not crash.
    _ = try? acceptor.receiveHello(kind: .hello, payload: payload)

    let connector = ConnectorHandshake(node: NodeIdentity(high: 3, low: 4), secret: secret, maxFramePayload: 1 << 20)
    _ = connector.firstFrame().encoded()
    _ = try? connector.receiveReply(kind: claimedKind, payload: payload)
    _ = try? connector.receiveReply(kind: .helloReply, payload: payload)
}

/// The path a transport takes: decode a header, then hand the payload it announces (as far
/// as the input holds it) to the handshake.
private func fuzzFrameThenHandshake(_ input: UnsafeRawBufferPointer) {
    guard input.count >= FrameLayout.headerSize, let base = input.baseAddress,
        case .success(let header) = FrameHeader.decode(from: base, limits: FrameLimits())
    else { return }
    let available = input.count - FrameLayout.headerSize
    let length = min(Int(header.payloadLength), available)
    let payload = UnsafeRawBufferPointer(start: base + FrameLayout.headerSize, count: length)
    var acceptor = AcceptorHandshake(node: NodeIdentity(high: 5, low: 6), secret: nil, maxFramePayload: 1 << 20)
    if (try? acceptor.receiveHello(kind: header.kind, payload: payload)) != nil {
        _ = try? acceptor.receiveAuth(kind: header.kind, payload: payload)
    }
    let connector = ConnectorHandshake(node: NodeIdentity(high: 7, low: 8), secret: nil, maxFramePayload: 1 << 20)
    _ = try? connector.receiveReply(kind: header.kind, payload: payload)
}

/// `RendezvousReady.decode` and `RendezvousDone.decode` on the whole input and on what follows
/// a header (as a verbs receiver meets them); what decodes re-encodes to the same bytes, and a
/// ready frame never announces less than a header.
private func fuzzRendezvous(_ input: UnsafeRawBufferPointer) {
    var payloads = [input]
    if input.count >= FrameLayout.headerSize, let base = input.baseAddress,
        case .success(let header) = FrameHeader.decode(from: base, limits: FrameLimits()), header.kind.isRendezvous
    {
        let length = min(Int(header.payloadLength), input.count - FrameLayout.headerSize)
        payloads.append(UnsafeRawBufferPointer(start: base + FrameLayout.headerSize, count: length))
    }
    for payload in payloads {
        if let ready = try? RendezvousReady.decode(payload) {
            precondition(Int(ready.frameLength) >= FrameLayout.headerSize, "a ready frame announced less than a header")
            var copy = [UInt8](repeating: 0xAA, count: RendezvousReady.size)
            copy.withUnsafeMutableBytes { ready.encode(to: $0.baseAddress!) }
            precondition(copy.elementsEqual(payload), "rendezvousReady did not round-trip")
        }
        if let done = try? RendezvousDone.decode(payload) {
            var copy = [UInt8](repeating: 0xAA, count: RendezvousDone.size)
            copy.withUnsafeMutableBytes { done.encode(to: $0.baseAddress!) }
            precondition(copy.elementsEqual(payload), "rendezvousDone did not round-trip")
        }
    }
}

private let fuzzSecret: ClusterSecret = try! ClusterSecret(bytes: Array("weft-fuzz-cluster-secret".utf8))
