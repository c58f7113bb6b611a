import Synchronization

// The envelope target's stand-ins for what the decoding sources name but never use here.

/// `CallPayload` carries its connection's `IncomingCalls`; decoding never touches it.
final class IncomingCalls: @unchecked Sendable {}

/// What an incoming call's slots cache for the IO thread; never filled here.
final class IOThreadExecutor: @unchecked Sendable {}
struct MethodThunk: Sendable {}

/// The decoders hand the system to actor references; the fuzzed types hold none.
public final class WeftActorSystem: @unchecked Sendable {}

/// `Locked` without ThreadSanitizer's calls (the real one needs the CWeftCore shim).
package final class Locked<Value>: @unchecked Sendable {
    private let mutex: Mutex<Value>

    package init(_ value: sending Value) { mutex = Mutex(value) }

    package func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in try body(&value) }
    }
}
