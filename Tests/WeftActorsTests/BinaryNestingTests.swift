import Testing

@testable import WeftActors

/// A peer chooses how deep the containers in its payload nest: a few bytes a level must
/// not exhaust the decoding thread's stack.
@Suite struct BinaryNestingTests {
    /// Decodes itself once per level: how deep a peer's bytes make it recurse.
    indirect enum Chain: Codable, Equatable {
        case end
        case link(Chain)
    }

    struct Point: Codable, Equatable {
        var x: Int
    }

    /// `levels` unkeyed containers of one element each, around a null.
    func nestedArrays(_ levels: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(levels * 5 + 1)
        for _ in 0..<levels { bytes += [BinaryTag.unkeyed.rawValue, 1, 0, 0, 0] }
        return bytes + [BinaryTag.null.rawValue]
    }

    /// A `Chain` of `levels` links as its synthesized `Codable` writes it.
    func chain(_ levels: Int) -> [UInt8] {
        let link: [UInt8] = [BinaryTag.keyed.rawValue, 1, 0, 0, 0, 4, 0] + Array("link".utf8)
        let inner: [UInt8] = [BinaryTag.keyed.rawValue, 1, 0, 0, 0, 2, 0] + Array("_0".utf8)
        let end: [UInt8] =
            [BinaryTag.keyed.rawValue, 1, 0, 0, 0, 3, 0] + Array("end".utf8) + [BinaryTag.keyed.rawValue, 0, 0, 0, 0]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(levels * (link.count + inner.count) + end.count)
        for _ in 0..<levels { bytes += link + inner }
        return bytes + end
    }

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { buffer in
            var reader = BinaryReader(buffer)
            return try BinaryEncoding.decode(type, from: &reader)
        }
    }

    /// An unknown key whose value nests a million levels: skipped, it is refused, not a crash.
    @Test func skippingADeepValueIsRefused() throws {
        let entry: [UInt8] = [BinaryTag.keyed.rawValue, 2, 0, 0, 0, 5, 0] + Array("other".utf8) + nestedArrays(1_000_000)
        let x: [UInt8] = [1, 0] + Array("x".utf8) + [BinaryTag.int64.rawValue, 7, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: BinaryCodingError.self) { try decode(Point.self, entry + x) }
    }

    /// A type that contains itself, nested by the peer far past any real value. (The error is
    /// the synthesized conformance's own: it lists the keys first, and the deep value cannot
    /// be skipped.)
    @Test func decodingADeepSelfContainingTypeIsRefused() throws {
        #expect(throws: (any Error).self) { try decode(Chain.self, chain(300_000)) }
    }

    @Test func ordinaryNestingDecodes() throws {
        #expect(try decode(Chain.self, chain(20)) != .end)
        #expect(try decode([[[Int]]].self, [BinaryTag.unkeyed.rawValue, 0, 0, 0, 0]) == [])
    }
}
