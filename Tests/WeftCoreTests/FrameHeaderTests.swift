import Testing

@testable import WeftCore

/// Pins the wire layout of docs/protocol.md byte by byte.
struct FrameHeaderTests {
    private func encoded(_ header: FrameHeader) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xAA, count: FrameLayout.headerSize)
        bytes.withUnsafeMutableBytes { header.encode(to: $0.baseAddress!) }
        return bytes
    }

    private func decode(_ bytes: [UInt8], limits: FrameLimits = FrameLimits()) -> Result<FrameHeader, FrameError> {
        bytes.withUnsafeBytes { FrameHeader.decode(from: $0.baseAddress!, limits: limits) }
    }

    @Test func offsetsMatchTheSpecification() {
        #expect(FrameLayout.headerSize == 32)
        #expect(FrameLayout.headerSize % FrameLayout.alignment == 0)
        let bytes = encoded(
            FrameHeader(
                kind: .request, flags: [.fragment, .moreFragments], payloadLength: 0x0102_0304, channel: 0x0A0B_0C0D,
                correlation: 0x1122_3344_5566_7788, messageLength: 0x0506_0708))
        #expect(Array(bytes[0..<4]) == Array("WEFT".utf8))
        #expect(bytes[4] == 1)
        #expect(bytes[5] == MessageKind.request.rawValue)
        #expect(Array(bytes[6..<8]) == [0x03, 0x00])
        #expect(Array(bytes[8..<12]) == [0x04, 0x03, 0x02, 0x01])
        #expect(Array(bytes[12..<16]) == [0x0D, 0x0C, 0x0B, 0x0A])
        #expect(Array(bytes[16..<24]) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        #expect(Array(bytes[24..<28]) == [0x08, 0x07, 0x06, 0x05])
        #expect(Array(bytes[28..<32]) == [0, 0, 0, 0])
    }

    @Test func kindValuesAreWireConstants() {
        #expect(MessageKind.allCases.map(\.rawValue) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        #expect(MessageKind.allCases.filter(\.isRendezvous) == [.rendezvousReady, .rendezvousDone])
        #expect(FrameFlags.moreFragments.rawValue == 1 && FrameFlags.fragment.rawValue == 2 && FrameFlags.error.rawValue == 4)
    }

    @Test func roundTrips() throws {
        let header = FrameHeader(kind: .response, flags: .error, payloadLength: 12, channel: 3, correlation: 99)
        #expect(try decode(encoded(header)).get() == header)
    }

    @Test(arguments: [
        (0, UInt8(0x58), "badMagic"), (4, UInt8(2), "unsupportedVersion"), (5, UInt8(0), "unknownKind"),
        (5, UInt8(12), "unknownKind"), (7, UInt8(0x80), "unknownFlags"), (28, UInt8(1), "reservedNotZero"),
    ])
    func rejectsACorruptedByte(offset: Int, value: UInt8, expected: String) {
        var bytes = encoded(FrameHeader(kind: .data, payloadLength: 8))
        bytes[offset] = value
        guard case .failure(let error) = decode(bytes) else {
            Issue.record("byte \(offset) = \(value) was accepted")
            return
        }
        #expect(caseName(error) == expected)
    }

    @Test func rejectsALengthOverTheLimit() {
        let bytes = encoded(FrameHeader(kind: .data, payloadLength: 1025))
        #expect(decode(bytes, limits: FrameLimits(maxFramePayload: 1024)) == .failure(.tooLong(length: 1025, limit: 1024)))
        #expect((try? decode(bytes, limits: FrameLimits(maxFramePayload: 1025)).get()) != nil)
    }

    @Test func rejectsInconsistentFragments() {
        let moreWithoutFragment = encoded(FrameHeader(kind: .data, flags: .moreFragments, payloadLength: 8))
        #expect(decode(moreWithoutFragment) == .failure(.fragmentInconsistent))
        let longerThanMessage = encoded(FrameHeader(kind: .data, flags: .fragment, payloadLength: 9, messageLength: 8))
        #expect(decode(longerThanMessage) == .failure(.fragmentInconsistent))
        let messageLengthOnWhole = encoded(FrameHeader(kind: .data, payloadLength: 8, messageLength: 8))
        #expect(decode(messageLengthOnWhole) == .failure(.fragmentInconsistent))
    }

    @Test func paddedSizeKeepsFramesAligned() {
        #expect(FrameHeader.paddedFrameSize(payload: 0) == 32)
        #expect(FrameHeader.paddedFrameSize(payload: 1) == 40)
        #expect(FrameHeader.paddedFrameSize(payload: 8) == 40)
        #expect(FrameHeader.paddedFrameSize(payload: 9) == 48)
    }

    private func caseName(_ error: FrameError) -> String {
        switch error {
        case .badMagic: "badMagic"
        case .unsupportedVersion: "unsupportedVersion"
        case .unknownKind: "unknownKind"
        case .unknownFlags: "unknownFlags"
        case .tooLong: "tooLong"
        case .reservedNotZero: "reservedNotZero"
        case .fragmentInconsistent: "fragmentInconsistent"
        case .truncated: "truncated"
        case .unexpectedKind: "unexpectedKind"
        case .malformedPayload: "malformedPayload"
        case .reassemblyOverBudget: "reassemblyOverBudget"
        }
    }
}
