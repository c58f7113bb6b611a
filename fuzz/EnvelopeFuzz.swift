// libFuzzer target for the actor layer's decoders: a call's envelope (`CallEnvelope.parseRequest`),
// the handles it names (`IncomingCallHandles`) and its arguments (`WeftInvocationDecoder`, `BinaryDecoder`, `BinaryReader`), an error reply
// (`CallEnvelope.decodeError`) and a result (`BinaryEncoding.decode`). Whatever the bytes,
// decoding must throw cleanly or give a value that encodes back: to the very bytes it was
// read from where the encoding has one form (the envelope, integers, strings, booleans,
// arrays, optionals), and to bytes that decode to the same value where it has several (a
// keyed container may list its entries in any order and carry unknown keys). Type names
// from the wire must resolve only through the allowlist (`RemoteTypes`).
//
// Built by scripts/fuzz as ONE module with the WeftActors files that decode and the wire
// sources they use. See docs/fuzzing.md.

import Synchronization

@_cdecl("LLVMFuzzerTestOneInput")
public func weftFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let mode = input.byte()
    let bytes = input.take(size)
    switch mode % 6 {
    case 0:
        fuzzCall(bytes, canonical: true) { decoder in
            [try decoder.decodeNextArgument() as Int, try decoder.decodeNextArgument() as String]
        }
    case 1: fuzzCall(bytes, canonical: false) { decoder in [try decoder.decodeNextArgument() as FuzzPoint] }
    case 2:
        fuzzCall(bytes, canonical: true) { decoder in
            [
                try decoder.decodeNextArgument() as [Int32], try decoder.decodeNextArgument() as String?,
                try decoder.decodeNextArgument() as Bool, try decoder.decodeNextArgument() as [Double],
            ]
        }
    case 3:
        fuzzCall(bytes, canonical: false) { decoder in
            [try decoder.decodeNextArgument() as [FuzzShape], try decoder.decodeNextArgument() as [String: [UInt16]]]
        }
    case 4: fuzzErrorReply(bytes)
    default:
        fuzzResult(bytes, as: [FuzzPoint].self)
        fuzzResult(bytes, as: FuzzShape.self)
    }
    return 0
}

/// A struct through the keyed `Codable` path, with an optional (left out when nil).
struct FuzzPoint: Codable, Equatable {
    var x: Int
    var y: Int64
    var label: String
    var bytes: [UInt8]
    var next: Bool?
}

/// An enum: synthesized `Codable` nests a keyed container per case.
enum FuzzShape: Codable, Equatable {
    case dot
    case line(length: Int64)
    case named(String, [Int16])
}

/// The one error type the fuzzed node lets replies carry.
struct FuzzError: Error, Codable, Equatable {
    var code: Int
    var why: String
}

/// The allowlist: what peers may name. Nothing else may come back from a name on the wire.
private let allowedTypes: [any Any.Type] = [Int.self, String.self, FuzzPoint.self, FuzzError.self]
private let remoteTypes: RemoteTypes = {
    let types = RemoteTypes()
    for type in allowedTypes { types.allow(type) }
    return types
}()

/// Where a fuzzed request's frame "releases" to (nobody waits on it here).
nonisolated(unsafe) private let releaseCursor: UnsafeMutablePointer<Atomic<UInt64>> = {
    let cursor = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: 1)
    cursor.initialize(to: Atomic(0))
    return cursor
}()

/// `bytes` as a request frame's payload, decoded as the serving node does: the envelope, the
/// substitutions through the allowlist, then each argument as `decodeArguments` asks.
private func fuzzCall(
    _ bytes: UnsafeRawBufferPointer, canonical: Bool,
    _ decodeArguments: (inout WeftInvocationDecoder) throws -> [any Codable & Equatable]
) {
    guard let request = try? CallEnvelope.parseRequest(bytes) else { return }
    // A fresh connection knows no handle: only a call that names its target and method
    // resolves, and a handle binds names of `maxBoundNameBytes` at most.
    let resolved = try? IncomingCallHandles().resolve(request)
    let bindable = { (handle: UInt32, bytes: Int) in handle == 0 || bytes <= CallEnvelope.maxBoundNameBytes }
    let targetBinds = request.target.map { bindable(request.targetHandle, $0.boundBytes) } ?? false
    let methodBinds = request.method.map { bindable(request.methodHandle, $0.utf8.count) } ?? false
    let resolvable = targetBinds && methodBinds
    precondition((resolved != nil) == resolvable, "a call resolved against the handle rules")
    if let resolved {
        precondition(
            resolved.target.id == request.target && resolved.method.identifier == request.method
                && resolved.argumentsOffset == request.argumentsOffset, "a call resolved to other names")
    }
    let substitutions: [any Any.Type]
    do {
        substitutions = try remoteTypes.resolve(request.substitutions)
    } catch {
        precondition(!allowedTypes.contains { _mangledTypeName($0) == error.name }, "an allowed name was refused")
        return
    }
    for (name, type) in zip(request.substitutions, substitutions) {
        precondition(
            allowedTypes.contains { $0 == type } && _mangledTypeName(type) == name, "a name resolved outside the allowlist")
    }
    let (values, end) = decodeCall(bytes, request: request, substitutions: substitutions, decodeArguments)
    guard let values, values.count == request.argumentCount else { return }

    // Encode what was decoded, the way a caller would send it.
    let encoded = encodeRequest(request, arguments: values)
    if canonical {
        precondition(encoded.elementsEqual(bytes.prefix(end)), "the call did not re-encode to its bytes")
        return
    }
    // Keyed arguments may have come in another order: the envelope itself must match, and
    // the new bytes must decode to the same call.
    precondition(
        encoded.prefix(request.argumentsOffset).elementsEqual(bytes.prefix(request.argumentsOffset)),
        "the envelope did not re-encode to its bytes")
    encoded.withUnsafeBytes { again in
        guard let reparsed = try? CallEnvelope.parseRequest(again) else { preconditionFailure("a re-encoded call did not parse") }
        precondition(
            reparsed.target == request.target && reparsed.method == request.method
                && reparsed.targetHandle == request.targetHandle && reparsed.methodHandle == request.methodHandle
                && reparsed.substitutions == request.substitutions && reparsed.argumentCount == request.argumentCount,
            "a re-encoded call parsed differently")
        let (decoded, end) = decodeCall(again, request: reparsed, substitutions: substitutions, decodeArguments)
        guard let decoded, end == again.count else { preconditionFailure("a re-encoded call's arguments did not decode") }
        precondition(zip(values, decoded).allSatisfy { isEqual($0, $1) }, "a re-encoded argument decoded differently")
    }
}

/// The decoder never looks at a payload's connection bookkeeping.
private let noIncomingCalls = IncomingCalls()
private let noActorSystem = WeftActorSystem()

/// The arguments (nil when one does not decode) and where the last one ended.
private func decodeCall(
    _ bytes: UnsafeRawBufferPointer, request: CallEnvelope.Request, substitutions: [any Any.Type],
    _ decodeArguments: (inout WeftInvocationDecoder) throws -> [any Codable & Equatable]
) -> ([any Codable & Equatable]?, Int) {
    let frame = ReceivedFrame(
        header: FrameHeader(kind: .request, payloadLength: UInt32(bytes.count)),
        payload: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, releaseCursor: UnsafePointer(releaseCursor),
        releasePosition: 1)
    let payload = CallPayload(frame, calls: noIncomingCalls)
    var decoder = WeftInvocationDecoder(
        payload: payload, request: request, substitutions: substitutions, system: noActorSystem)
    let values = try? decodeArguments(&decoder)
    precondition(decoder.position <= bytes.count, "an argument was read past the frame")
    return (values, decoder.position)
}

private func encodeRequest(_ request: CallEnvelope.Request, arguments: [any Codable]) -> [UInt8] {
    var invocation = WeftInvocationEncoder()
    invocation.arguments = arguments
    invocation.substitutions = request.substitutions
    var writer = BinaryWriter(growable: 64)
    defer { writer.deallocate() }
    do {
        try CallEnvelope.writeRequest(
            target: request.target, targetHandle: request.targetHandle, method: request.method,
            methodHandle: request.methodHandle, invocation: invocation, into: &writer)
    } catch {
        preconditionFailure("a decoded call could not be encoded: \(error)")
    }
    return Array(writer.bytes)
}

/// `bytes` as an error reply: the error it stands for is the allowed error type, a remote
/// failure that re-encodes to the reply's bytes, or a clean `badReply`.
private func fuzzErrorReply(_ bytes: UnsafeRawBufferPointer) {
    switch CallEnvelope.decodeError(bytes, types: remoteTypes) {
    case let error as FuzzError:
        let encoded = encode { try CallEnvelope.writeError(.thrown, message: "", error: error, into: &$0) }
        precondition(encoded[0] == RemoteFailure.thrownCodable.rawValue, "the allowed error did not travel as itself")
        encoded.withUnsafeBytes {
            precondition(CallEnvelope.decodeError($0, types: remoteTypes) as? FuzzError == error, "the error did not round-trip")
        }
    case WeftActorError.remote(let failure, let message):
        let encoded = encode { try CallEnvelope.writeError(failure, message: message, into: &$0) }
        if bytes[0] == failure.rawValue {
            precondition(encoded.elementsEqual(bytes.prefix(encoded.count)), "the error reply did not re-encode to its bytes")
        } else {
            // Only a Codable error of a type this node does not allow comes back as a plain `thrown`.
            precondition(bytes[0] == RemoteFailure.thrownCodable.rawValue && failure == .thrown, "the failure code changed")
            let name = thrownTypeName(bytes, messageEnd: encoded.count)
            precondition(
                name.map { remoteTypes.type(named: $0) as? any (Error & Codable).Type == nil } ?? false,
                "an allowed error type was not decoded")
        }
    case WeftActorError.badReply:
        break
    case let other:
        preconditionFailure("an error reply gave \(type(of: other)), outside the allowlist")
    }
}

/// The type name a `thrownCodable` reply carries after its message.
private func thrownTypeName(_ bytes: UnsafeRawBufferPointer, messageEnd: Int) -> String? {
    var reader = BinaryReader(UnsafeRawBufferPointer(rebasing: bytes[messageEnd...]))
    return try? reader.readString(lengthAs: UInt16.self)
}

/// `bytes` as a call's result of type `T`.
private func fuzzResult<T: Codable & Equatable>(_ bytes: UnsafeRawBufferPointer, as _: T.Type) {
    var reader = BinaryReader(bytes)
    guard let value = try? BinaryEncoding.decode(T.self, from: &reader) else { return }
    precondition(reader.position <= bytes.count, "a result was read past its bytes")
    let encoded = encode { try BinaryEncoding.encode(value, into: &$0) }
    encoded.withUnsafeBytes {
        var again = BinaryReader($0)
        guard let decoded = try? BinaryEncoding.decode(T.self, from: &again) else {
            preconditionFailure("a re-encoded result did not decode")
        }
        precondition(decoded == value && again.remaining == 0, "a re-encoded result decoded differently")
    }
}

private func encode(_ body: (inout BinaryWriter) throws -> Void) -> [UInt8] {
    var writer = BinaryWriter(growable: 64)
    defer { writer.deallocate() }
    do { try body(&writer) } catch { preconditionFailure("a decoded value could not be encoded: \(error)") }
    return Array(writer.bytes)
}

/// Equality of two decoded arguments of the same static type.
private func isEqual(_ left: any Codable & Equatable, _ right: any Codable & Equatable) -> Bool {
    func open<T: Equatable>(_ left: T) -> Bool { (right as? T) == left }
    return open(left)
}
