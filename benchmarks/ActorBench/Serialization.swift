import Foundation
import WeftActors

/// A small message of the kind actors exchange.
struct Sample: Codable, Equatable {
    var id: Int
    var name: String
    var score: Double
    var tags: [String]
    var active: Bool

    static let value = Sample(id: 42, name: "barrel-17", score: 12.5, tags: ["red", "explosive"], active: true)
}

/// Nanoseconds per encode+decode of `Sample.value` for each coder, and the encoded sizes.
func measureSerialization(iterations: Int) throws -> [(coder: String, nanoseconds: Double, bytes: Int)] {
    var results: [(String, Double, Int)] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
    defer { buffer.deallocate() }
    var size = 0
    var check = 0
    var started = ContinuousClock.now
    for _ in 0..<iterations {
        var writer = BinaryWriter(fixed: buffer)
        try BinaryEncoding.encode(Sample.value, into: &writer)
        size = writer.count
        var reader = BinaryReader(UnsafeRawBufferPointer(writer.bytes))
        check &+= try BinaryEncoding.decode(Sample.self, from: &reader).id
    }
    results.append(("Weft binary coder", perIteration(ContinuousClock.now - started, iterations), size))

    let jsonEncoder = JSONEncoder()
    let jsonDecoder = JSONDecoder()
    started = .now
    for _ in 0..<iterations {
        let data = try jsonEncoder.encode(Sample.value)
        size = data.count
        check &+= try jsonDecoder.decode(Sample.self, from: data).id
    }
    results.append(("JSONEncoder/JSONDecoder", perIteration(ContinuousClock.now - started, iterations), size))

    let plistEncoder = PropertyListEncoder()
    plistEncoder.outputFormat = .binary
    let plistDecoder = PropertyListDecoder()
    started = .now
    for _ in 0..<iterations {
        let data = try plistEncoder.encode(Sample.value)
        size = data.count
        check &+= try plistDecoder.decode(Sample.self, from: data).id
    }
    results.append(("PropertyListEncoder/Decoder (binary)", perIteration(ContinuousClock.now - started, iterations), size))
    precondition(check == 42 &* iterations &* 3, "a coder did not round-trip")
    return results
}

func perIteration(_ elapsed: Duration, _ count: Int) -> Double {
    let components = elapsed.components
    return (Double(components.seconds) * 1e9 + Double(components.attoseconds) / 1e9) / Double(count)
}
