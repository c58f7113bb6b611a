import WeftCore

/// A transport under test: how to make it and where it listens.
public protocol ConformanceSubject: Sendable, CustomStringConvertible {
    var name: String { get }
    func makeTransport(context: TransportContext) throws -> any Transport
    /// A fresh address to listen on.
    func listenAddress() -> String
    /// Opens a connection to `address` and puts `bytes` on it as if they were frames,
    /// bypassing the encoder (malformed-frame tests).
    func sendRaw(_ bytes: [UInt8], to address: String, transport: any Transport) throws
}

extension ConformanceSubject {
    public var description: String { name }
}

/// Thrown when a conformance check fails; the message says what was expected.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw ConformanceFailure(message()) }
}
