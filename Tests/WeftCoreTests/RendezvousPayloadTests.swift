import Testing

@testable import WeftCore

/// Pins the RDMA rendezvous payloads of docs/protocol.md byte by byte, and shows that a
/// transport without rendezvous (every one but verbs, through `InOrderDelivery`) refuses them.
struct RendezvousPayloadTests {
    @Test func readyOffsetsMatchTheSpecification() throws {
        let ready = RendezvousReady(
            address: 0x1122_3344_5566_7788, remoteKey: 0x0A0B_0C0D, frameLength: 0x0010_0020,
            token: 0x0102_0304_0506_0708)
        var bytes = [UInt8](repeating: 0xAA, count: RendezvousReady.size)
        bytes.withUnsafeMutableBytes { ready.encode(to: $0.baseAddress!) }
        #expect(RendezvousReady.size == 24)
        #expect(Array(bytes[0..<8]) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        #expect(Array(bytes[8..<12]) == [0x0D, 0x0C, 0x0B, 0x0A])
        #expect(Array(bytes[12..<16]) == [0x20, 0x00, 0x10, 0x00])
        #expect(Array(bytes[16..<24]) == [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
        #expect(try bytes.withUnsafeBytes { try RendezvousReady.decode($0) } == ready)
    }

    @Test func doneOffsetsMatchTheSpecification() throws {
        var bytes = [UInt8](repeating: 0xAA, count: RendezvousDone.size)
        bytes.withUnsafeMutableBytes {
            RendezvousDone(token: 0x0102_0304_0506_0708).encode(to: $0.baseAddress!)
        }
        #expect(RendezvousDone.size == 8)
        #expect(bytes == [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
        #expect(
            try bytes.withUnsafeBytes { try RendezvousDone.decode($0) }
                == RendezvousDone(token: 0x0102_0304_0506_0708))
    }

    @Test func wrongSizesAndShortFramesAreMalformed() {
        let short = [UInt8](repeating: 0, count: 23)
        #expect(throws: FrameError.self) {
            try short.withUnsafeBytes { try RendezvousReady.decode($0) }
        }
        #expect(throws: FrameError.self) {
            try [UInt8](repeating: 0, count: 9).withUnsafeBytes { try RendezvousDone.decode($0) }
        }
        var tiny = [UInt8](repeating: 0, count: RendezvousReady.size)
        tiny.withUnsafeMutableBytes {
            RendezvousReady(address: 1, remoteKey: 2, frameLength: 31, token: 3).encode(
                to: $0.baseAddress!)
        }
        #expect(throws: FrameError.self) { try tiny.withUnsafeBytes { try RendezvousReady.decode($0) } }
    }

    @Test(arguments: [MessageKind.rendezvousReady, .rendezvousDone])
    func transportsWithoutRendezvousRefuseIt(kind: MessageKind) {
        var delivery = InOrderDelivery(limits: FrameLimits())
        let handler = NeverCalled()
        let payload = [UInt8](repeating: 0, count: 24)
        let outcome = payload.withUnsafeBytes {
            delivery.deliver(
                FrameHeader(kind: kind, payloadLength: 24), payload: $0.baseAddress!, end: 1, to: handler,
                on: NoConnection())
        }
        guard case .violation(.unexpectedKind(let refused, _)) = outcome else {
            Issue.record("\(kind) was not refused: \(outcome)")
            return
        }
        #expect(refused == kind)
    }
}

private final class NeverCalled: ConnectionHandler, @unchecked Sendable {
    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        Issue.record("a rendezvous frame reached the handler")
    }
    func closed(_ connection: any TransportConnection, error: TransportError?) {}
}

/// Only passed through: `deliver` never touches the connection for a refused kind.
private final class NoConnection: TransportConnection, @unchecked Sendable {
    let id = ConnectionID(0)
    let peer = PeerInfo(node: NodeIdentity(high: 0, low: 0), address: "nowhere", maxFramePayload: 0)
    let maxReservation = 0
    let maxMessageSize = 0
    let isClosed = true
    let largeMessageLock = SendSideLock()
    var ioThread: IOThread { fatalError("not used") }
    func reserve(capacity: Int) throws(TransportError) -> SendReservation { throw .wouldBlock }
    func flush() {}
    func close() {}
}
