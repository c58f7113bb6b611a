// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// Weft's package, two folders up; SwiftPM names a path dependency after its folder.
let weftFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent

/// Micro-benchmarks of the actor layer's binary coder with ordo-one/benchmark, in a package
/// of their own so that Weft's build and tests never resolve the benchmarking package.
/// Run: `swift package --package-path benchmarks/Coding benchmark` (see benchmarks/README.md).
let package = Package(
    name: "weft-coding-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Coding",
            dependencies: [
                .product(name: "WeftActors", package: weftFolder),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Coding",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
    ]
)
