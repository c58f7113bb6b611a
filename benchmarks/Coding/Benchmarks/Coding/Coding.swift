import Benchmark
import Foundation
import WeftActors

/// A small message of the kind actors exchange (the same value weft-actor-bench codes).
struct Sample: Codable, Equatable {
    var id: Int
    var name: String
    var score: Double
    var tags: [String]
    var active: Bool

    static let value = Sample(id: 42, name: "barrel-17", score: 12.5, tags: ["red", "explosive"], active: true)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(3))

    Benchmark("binary coder: encode+decode small struct") { benchmark in
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        for _ in benchmark.scaledIterations {
            var writer = BinaryWriter(fixed: buffer)
            try BinaryEncoding.encode(Sample.value, into: &writer)
            var reader = BinaryReader(UnsafeRawBufferPointer(writer.bytes))
            blackHole(try BinaryEncoding.decode(Sample.self, from: &reader))
        }
    }

    Benchmark("binary coder: encode+decode Int") { benchmark in
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        for _ in benchmark.scaledIterations {
            var writer = BinaryWriter(fixed: buffer)
            try BinaryEncoding.encode(42, into: &writer)
            var reader = BinaryReader(UnsafeRawBufferPointer(writer.bytes))
            blackHole(try BinaryEncoding.decode(Int.self, from: &reader))
        }
    }

    Benchmark("JSONEncoder/JSONDecoder: encode+decode small struct") { benchmark in
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(Sample.self, from: try encoder.encode(Sample.value)))
        }
    }
}
