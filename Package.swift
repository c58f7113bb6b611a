// swift-tools-version: 6.1
import PackageDescription

/// Layers (arrows = may import): weft CLI -> Weft -> transports + WeftNUMA + WeftCore; each transport -> WeftCore + its own shim.
let package = Package(
    name: "weft",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Weft", targets: ["Weft"]),
        .library(name: "WeftCore", targets: ["WeftCore"]),
        .library(name: "WeftTransports", targets: ["WeftTransports"]),
        .library(name: "WeftActors", targets: ["WeftActors"]),
        .library(name: "WeftLocal", targets: ["WeftLocal"]),
        .executable(name: "weft", targets: ["weft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(
            url: "https://github.com/apple/swift-configuration", from: "1.4.0",
            traits: [.defaults, "YAML", "CommandLineArguments"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C shims: only what Swift cannot import (macros, unions, variadic syscalls).
        .target(name: "CWeftCore", path: "Sources/Shims/CWeftCore"),
        .target(name: "CWeftSharedMemory", path: "Sources/Shims/CWeftSharedMemory"),
        .target(name: "CWeftTCP", path: "Sources/Shims/CWeftTCP"),
        .target(name: "CWeftTIPC", path: "Sources/Shims/CWeftTIPC"),
        .target(
            name: "CWeftVerbs", path: "Sources/Shims/CWeftVerbs",
            linkerSettings: [.linkedLibrary("ibverbs"), .linkedLibrary("rdmacm")]),
        .systemLibrary(name: "CNUMA", path: "Sources/Shims/CNUMA"),

        .target(
            name: "WeftCore",
            dependencies: [
                "CWeftCore", "CNUMA",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
            ]),
        .target(name: "WeftSharedMemory", dependencies: ["WeftCore", "CWeftSharedMemory"]),
        .target(name: "WeftTCP", dependencies: ["WeftCore", "CWeftTCP"]),
        .target(name: "WeftTIPC", dependencies: ["WeftCore", "CWeftTIPC"]),
        .target(name: "WeftVerbs", dependencies: ["WeftCore", "CWeftVerbs"]),
        .target(name: "WeftLocal", dependencies: ["WeftCore"]),
        // Topology (sysfs, libnuma) and the placement planner; the CLI plans with it.
        .target(name: "WeftNUMA", dependencies: ["WeftCore", "CNUMA"]),
        .target(name: "WeftActors", dependencies: ["WeftCore"]),
        // The one place that lists every transport.
        .target(
            name: "WeftTransports",
            dependencies: ["WeftCore", "WeftSharedMemory", "WeftTCP", "WeftTIPC", "WeftVerbs"]),
        // The library's entry point: a node started from the configuration (WeftNode).
        .target(
            name: "Weft",
            dependencies: [
                "WeftCore", "WeftTransports", "WeftNUMA", .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "weft",
            dependencies: [
                "Weft", "WeftCore", "WeftTransports", "WeftNUMA", "WeftVerbs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),

        .target(
            name: "BarrelsGame", dependencies: ["WeftActors", "WeftCore", "WeftTransports"],
            path: "Examples/Barrels/Game"),
        .executableTarget(
            name: "barrels", dependencies: ["BarrelsGame", "WeftActors", "WeftCore", "WeftTransports"],
            path: "Examples/Barrels/Main"),
        // The README's example: a listener and a client in one process, one echo, exit 0.
        .executableTarget(name: "echo-example", dependencies: ["Weft"], path: "Examples/Echo"),
        .executableTarget(
            name: "cluster-hello", dependencies: ["WeftActors", "WeftCore", "WeftTransports"],
            path: "Examples/ClusterHello"),
        .executableTarget(
            name: "weft-actor-bench", dependencies: ["BarrelsGame", "WeftActors", "WeftCore", "WeftSharedMemory", "WeftTCP"],
            path: "benchmarks/ActorBench"),

        .target(name: "WeftConformance", dependencies: ["WeftCore"], path: "Tests/WeftConformance"),
        // Runs the conformance suite where `swift test` cannot: inside the kernel lab's guests.
        .executableTarget(
            name: "weft-conformance",
            dependencies: ["WeftConformance", "WeftCore", "WeftTIPC", "WeftTransports", "WeftVerbs"]),
        .testTarget(name: "WeftCoreTests", dependencies: ["WeftCore"]),
        .testTarget(name: "WeftNUMATests", dependencies: ["WeftNUMA", "WeftCore"]),
        .testTarget(
            name: "WeftActorsTests",
            dependencies: [
                "WeftActors", "WeftLocal", "WeftSharedMemory", "WeftCore", "WeftConformance", "WeftTCP", "BarrelsGame",
            ]),
        .testTarget(name: "WeftVerbsTests", dependencies: ["WeftVerbs", "WeftCore"]),
        .testTarget(name: "WeftSharedMemoryTests", dependencies: ["WeftCore", "WeftSharedMemory", "WeftConformance"]),
        .testTarget(
            name: "WeftTransportTests",
            dependencies: ["WeftCore", "WeftTransports", "WeftSharedMemory", "WeftTCP", "WeftTIPC", "WeftConformance"]),
    ]
)
