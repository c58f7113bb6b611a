import Testing
import WeftCore

@testable import WeftActors

/// What the call envelope accepts from a peer: a call or an error reply parses only when it
/// encodes back to the same bytes, and type names resolve only through the allowlist.
@Suite struct CallEnvelopeTests {
    func request(method: String = "m", substitutions: [String] = []) throws -> [UInt8] {
        var invocation = WeftInvocationEncoder()
        invocation.arguments = [42]
        invocation.substitutions = substitutions
        var writer = BinaryWriter(growable: 64)
        defer { writer.deallocate() }
        try CallEnvelope.writeRequest(
            target: .virtual(type: "Player", key: "bob"), method: method, invocation: invocation, into: &writer)
        return Array(writer.bytes)
    }

    func errorReply(_ failure: RemoteFailure, message: String) throws -> [UInt8] {
        var writer = BinaryWriter(growable: 64)
        defer { writer.deallocate() }
        try CallEnvelope.writeError(failure, message: message, into: &writer)
        return Array(writer.bytes)
    }

    @Test func aCallParses() throws {
        let parsed = try request(substitutions: ["Si"]).withUnsafeBytes { try CallEnvelope.parseRequest($0) }
        #expect(parsed.target == .virtual(type: "Player", key: "bob"))
        #expect(parsed.method == "m" && parsed.argumentCount == 1 && parsed.substitutions == ["Si"])
    }

    /// Flag bits 2–7 and bytes 6–7 are reserved (0): otherwise two different frames would be the same call.
    @Test(arguments: [(1, 4), (1, 128), (6, 1), (7, 1)]) func aCallWithReservedBitsSetIsRefused(offset: Int, bits: UInt8) throws {
        var bytes = try request()
        bytes[offset] |= bits
        #expect(throws: BinaryCodingError.self) { try bytes.withUnsafeBytes { try CallEnvelope.parseRequest($0) } }
    }

    func handled(target: ActorID?, targetHandle: UInt32, method: String?, methodHandle: UInt32) throws -> [UInt8] {
        try CapturedCall.request(
            target, targetHandle: targetHandle, method: method, methodHandle: methodHandle, arguments: [7])
    }

    /// A warm call names its target and method by handle alone: no strings, 16 bytes before the arguments.
    @Test func aCallByHandlesCarriesNoNames() throws {
        let bytes = try handled(target: nil, targetHandle: 3, method: nil, methodHandle: 9)
        let parsed = try bytes.withUnsafeBytes { try CallEnvelope.parseRequest($0) }
        #expect(parsed.target == nil && parsed.method == nil)
        #expect(parsed.targetHandle == 3 && parsed.methodHandle == 9 && parsed.argumentsOffset == CallEnvelope.fixedSize)
        let binding = try handled(target: .instance(1, on: "b"), targetHandle: 3, method: "m", methodHandle: 9)
        let bound = try binding.withUnsafeBytes { try CallEnvelope.parseRequest($0) }
        #expect(bound.target == .instance(1, on: "b") && bound.method == "m" && bound.targetHandle == 3)
    }

    /// Handle 0 means "named here": without the name there is nothing to call. A handle above
    /// the bound would let a peer make the node remember without limit.
    @Test func handlesOutOfRangeOrUnnamedAreRefused() throws {
        var unnamed = try handled(target: nil, targetHandle: 1, method: "m", methodHandle: 0)
        unnamed.replaceSubrange(8..<12, with: [0, 0, 0, 0])
        #expect(throws: BinaryCodingError.self) { try unnamed.withUnsafeBytes { try CallEnvelope.parseRequest($0) } }
        let tooHigh = try handled(target: nil, targetHandle: CallEnvelope.maxHandles + 1, method: "m", methodHandle: 0)
        #expect(throws: BinaryCodingError.self) { try tooHigh.withUnsafeBytes { try CallEnvelope.parseRequest($0) } }
    }

    /// The serving side binds handles in frame order, refuses a handle never bound, and a
    /// handle 0 call binds nothing.
    @Test func incomingHandlesBindInOrder() throws {
        let handles = IncomingCallHandles()
        func resolve(_ bytes: [UInt8]) throws -> IncomingCall {
            try bytes.withUnsafeBytes { try handles.resolve(CallEnvelope.parseRequest($0)) }
        }
        #expect(throws: BinaryCodingError.self) {
            try resolve(try handled(target: nil, targetHandle: 2, method: nil, methodHandle: 2))
        }
        _ = try resolve(try handled(target: .instance(5, on: "b"), targetHandle: 0, method: "once", methodHandle: 0))
        let first = try resolve(try handled(target: .instance(1, on: "b"), targetHandle: 2, method: "m", methodHandle: 4))
        let warm = try resolve(try handled(target: nil, targetHandle: 2, method: nil, methodHandle: 4))
        #expect(warm.target === first.target && warm.method === first.method)
        #expect(warm.target.id == .instance(1, on: "b") && warm.method.identifier == "m")
        #expect(throws: BinaryCodingError.self) {
            try resolve(try handled(target: nil, targetHandle: 1, method: nil, methodHandle: 4))
        }
    }

    /// The calling side names a target and method in full until a call naming them went out
    /// in order, by handle after that; past the bound it names them in full every time.
    @Test func outgoingHandlesAreAnnouncedOnce() {
        let handles = OutgoingCallHandles()
        let target = ActorID.instance(1, on: "b")
        let first = handles.plan(target: target, method: "m")
        #expect(first.sendsTarget && first.sendsMethod && first.targetHandle == 1 && first.methodHandle == 1)
        #expect(handles.plan(target: target, method: "m").sendsTarget)
        handles.announced(first, target: target, method: "m")
        let warm = handles.plan(target: target, method: "m")
        #expect(!warm.sendsTarget && !warm.sendsMethod && warm.targetHandle == 1 && warm.methodHandle == 1)
        for number in 2...Int(CallEnvelope.maxHandles) {
            _ = handles.plan(target: .instance(UInt64(number), on: "b"), method: "m")
        }
        let beyond = handles.plan(target: .instance(0, on: "c"), method: "m")
        #expect(beyond.targetHandle == 0 && beyond.sendsTarget)
        let long = OutgoingCallHandles().plan(target: .virtual(type: "T", key: String(repeating: "k", count: 300)), method: "m")
        #expect(long.targetHandle == 0 && long.sendsTarget && long.methodHandle == 1)
    }

    /// A binding holds at most `maxBoundNameBytes` of names: a peer cannot park long strings.
    @Test func longNamesAreNeverBound() throws {
        let key = String(repeating: "k", count: CallEnvelope.maxBoundNameBytes)
        let bytes = try handled(target: .virtual(type: "T", key: key), targetHandle: 1, method: "m", methodHandle: 0)
        #expect(throws: BinaryCodingError.self) {
            try bytes.withUnsafeBytes { try IncomingCallHandles().resolve(CallEnvelope.parseRequest($0)) }
        }
        let once = try handled(target: .virtual(type: "T", key: key), targetHandle: 0, method: "m", methodHandle: 0)
        _ = try once.withUnsafeBytes { try IncomingCallHandles().resolve(CallEnvelope.parseRequest($0)) }
    }

    @Test func anErrorReplyDecodes() throws {
        let error = try errorReply(.unknownMethod, message: "no").withUnsafeBytes {
            CallEnvelope.decodeError($0, types: RemoteTypes())
        }
        #expect(error as? WeftActorError == .remote(.unknownMethod, message: "no"))
    }

    /// An unknown failure code is not a `thrown` error: the reply is one this node cannot read.
    @Test func anErrorReplyWithAnUnknownCodeIsABadReply() throws {
        var bytes = try errorReply(.thrown, message: "no")
        bytes[0] = 200
        let error = bytes.withUnsafeBytes { CallEnvelope.decodeError($0, types: RemoteTypes()) }
        guard case WeftActorError.badReply = error else {
            Issue.record("decoded as \(error)")
            return
        }
    }

    @Test(arguments: [1, 2, 3]) func anErrorReplyWithReservedBytesSetIsABadReply(offset: Int) throws {
        var bytes = try errorReply(.thrown, message: "no")
        bytes[offset] = 1
        let error = bytes.withUnsafeBytes { CallEnvelope.decodeError($0, types: RemoteTypes()) }
        guard case WeftActorError.badReply = error else {
            Issue.record("decoded as \(error)")
            return
        }
    }

    /// Substitutions resolve through the allowlist only, in order; the first unknown name is reported.
    @Test func substitutionsResolveThroughTheAllowlistOnly() throws {
        let types = RemoteTypes()
        types.allow(Int.self)
        let resolved = try types.resolve([_mangledTypeName(Int.self)!, _mangledTypeName(Int.self)!])
        #expect(resolved.count == 2 && resolved.allSatisfy { $0 == Int.self })
        #expect(throws: UnknownRemoteType.self) {
            try types.resolve([_mangledTypeName(Int.self)!, _mangledTypeName(String.self)!])
        }
        do {
            _ = try types.resolve([_mangledTypeName(String.self)!])
        } catch {
            #expect(error.name == _mangledTypeName(String.self)!)
        }
    }
}
