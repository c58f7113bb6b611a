import Testing

@testable import WeftActors

@Suite struct BinaryCodingTests {
    func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        var writer = BinaryWriter(growable: 8)
        defer { writer.deallocate() }
        try BinaryEncoding.encode(value, into: &writer)
        var reader = BinaryReader(writer.bytes)
        let decoded = try BinaryEncoding.decode(T.self, from: &reader)
        #expect(reader.remaining == 0)
        return decoded
    }

    @Test func primitivesAndCollections() throws {
        #expect(try roundTrip(Int.min) == Int.min)
        #expect(try roundTrip(UInt64.max) == UInt64.max)
        #expect(try roundTrip(Int16(-3)) == -3)
        #expect(try roundTrip(3.25) == 3.25)
        #expect(try roundTrip(Float(1.5)) == 1.5)
        #expect(try roundTrip(true))
        #expect(try roundTrip("héllo, wörld") == "héllo, wörld")
        #expect(try roundTrip([1, 2, 3]) == [1, 2, 3])
        #expect(try roundTrip(["a": 1, "b": 2]) == ["a": 1, "b": 2])
        #expect(try roundTrip([7: "seven"]) == [7: "seven"])
        #expect(try roundTrip(Int?.none) == nil)
        #expect(try roundTrip([Int?.some(1), nil]) == [1, nil])
        #expect(try roundTrip(Set([3, 4])) == Set([3, 4]))
    }

    @Test func codableStructs() throws {
        let payload = Payload(
            name: "Bob", scores: [1, 2.5], tags: ["x": 1], note: nil, nested: [Inner(id: 9, flag: true)], small: -8, ratio: 0.5)
        #expect(try roundTrip(payload) == payload)
        var withNote = payload
        withNote.note = "n"
        #expect(try roundTrip(withNote) == withNote)
    }

    /// A fixed region (one reservation) that is too small says so, for the fallback to take over.
    @Test func fixedRegionOverflows() throws {
        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { region.deallocate() }
        var writer = BinaryWriter(fixed: region)
        #expect(throws: BinaryCodingError.overflow) {
            try BinaryEncoding.encode(String(repeating: "x", count: 100), into: &writer)
        }
    }

    @Test func typeMismatchIsReported() throws {
        var writer = BinaryWriter(growable: 8)
        defer { writer.deallocate() }
        try BinaryEncoding.encode("text", into: &writer)
        var reader = BinaryReader(writer.bytes)
        #expect(throws: BinaryCodingError.self) { _ = try BinaryEncoding.decode(Int.self, from: &reader) }
    }
}
