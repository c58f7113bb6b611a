import Testing
import WeftConformance
import WeftCore

@testable import WeftActors
@testable import WeftLocal

/// Call frames a node cannot serve are answered with an error reply; the connection and the
/// node go on serving.
@Suite(.serialized) struct MalformedCallTests {
    func request(
        _ target: ActorID, method: String, arguments: [any Codable], substitutions: [String] = []
    ) throws -> [UInt8] {
        try CapturedCall.request(target, method: method, arguments: arguments, substitutions: substitutions)
    }

    @Test func malformedCallsGetErrorReplies() async throws {
        let spy = "spy-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = try ActorCluster(["a", "b"], extra: ["spy": "local:\(spy)"]) { system in
            system.register(Player.self) { key, system in Player(key: key, actorSystem: system) }
        }
        defer { cluster.shutdown() }
        let add = try await CapturedCall.identifier(cluster, spy: spy) { system in
            _ = try await Counter.resolve(id: .instance(1, on: "spy"), using: system).add(1)
        }
        let counter = Counter(actorSystem: cluster["b"])
        let raw = LocalTransport(context: TransportContext(runtime: cluster.runtimes[0]))
        let replies = CollectingHandler()
        let connection = try raw.connect(
            to: cluster.membership.address(of: "b")!, options: ConnectionOptions(), handler: replies)
        let cases: [([UInt8], RemoteFailure)] = [
            ([1, 2, 3], .malformedCall),
            ([9] + [UInt8](repeating: 0, count: 40), .malformedCall),
            (try request(.virtual(type: "NoSuchType", key: "x"), method: add, arguments: [1]), .unknownActor),
            (try request(counter.id, method: "no-such-method", arguments: [1]), .unknownMethod),
            (try request(counter.id, method: add, arguments: ["not an Int"]), .badArguments),
            (try request(counter.id, method: add, arguments: []), .badArguments),
            // A type the node never allowed, named as a generic argument: never looked up.
            (
                try request(counter.id, method: add, arguments: [1], substitutions: [_mangledTypeName(Payload.self)!]),
                .badArguments
            ),
            // Handles never bound on this connection, and one above the bound.
            (try CapturedCall.request(nil, targetHandle: 5, method: nil, methodHandle: 5, arguments: [1]), .malformedCall),
            (
                try CapturedCall.request(
                    counter.id, targetHandle: CallEnvelope.maxHandles + 1, method: add, arguments: [1]), .malformedCall
            ),
        ]
        for (index, (bytes, _)) in cases.enumerated() {
            try connection.send(bytes, kind: .request, correlation: UInt64(index + 1))
        }
        #expect(replies.wait { $0.frameCount >= cases.count })
        for frame in replies.frames {
            let expected = cases[Int(frame.header.correlation) - 1].1
            #expect(frame.header.kind == .response && frame.header.flags.contains(.error))
            #expect(frame.payload.first == expected.rawValue, "case \(frame.header.correlation)")
        }
        // A well-formed call on the same connection still works, and so do other callers.
        try connection.send(try request(counter.id, method: add, arguments: [5]), kind: .request, correlation: 100)
        #expect(replies.wait { $0.frames.contains { $0.header.correlation == 100 } })
        let good = try #require(replies.frames.first { $0.header.correlation == 100 })
        #expect(!good.header.flags.contains(.error))
        let value = try good.payload.withUnsafeBytes { bytes -> Int in
            var reader = BinaryReader(bytes)
            return try BinaryEncoding.decode(Int.self, from: &reader)
        }
        #expect(value == 5)
        // Bound by one call, the handles name the same target and method in the next.
        let bind = try CapturedCall.request(counter.id, targetHandle: 1, method: add, methodHandle: 1, arguments: [1])
        let warm = try CapturedCall.request(nil, targetHandle: 1, method: nil, methodHandle: 1, arguments: [1])
        try connection.send(bind, kind: .request, correlation: 101)
        try connection.send(warm, kind: .request, correlation: 102)
        #expect(replies.wait { $0.frames.contains { $0.header.correlation == 102 } })
        let byHandle = try #require(replies.frames.first { $0.header.correlation == 102 })
        #expect(!byHandle.header.flags.contains(.error))
        #expect(
            try byHandle.payload.withUnsafeBytes { bytes -> Int in
                var reader = BinaryReader(bytes)
                return try BinaryEncoding.decode(Int.self, from: &reader)
            } == 7)
        #expect(!connection.isClosed)
        #expect(try await Counter.resolve(id: counter.id, using: cluster["a"]).add(1) == 8)
    }
}
