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

    /// Reserved bytes 1 and 6–7 must be 0: otherwise two different frames would be the same call.
    @Test(arguments: [1, 6, 7]) func aCallWithReservedBytesSetIsRefused(offset: Int) throws {
        var bytes = try request()
        bytes[offset] = 1
        #expect(throws: BinaryCodingError.self) { try bytes.withUnsafeBytes { try CallEnvelope.parseRequest($0) } }
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
