import CWeftCore
import Synchronization

/// A value behind a lock, for the package's own state: `Mutex` plus the two calls that let
/// ThreadSanitizer see the lock (`./scripts/test` runs the tests under it). On Linux `Mutex`
/// locks inside the standard library, which ThreadSanitizer does not instrument, so every
/// section it guards would otherwise be reported as a race. Outside such a build the calls
/// return at once.
package final class Locked<Value>: @unchecked Sendable {
    private let mutex: Mutex<Value>

    package init(_ value: sending Value) { mutex = Mutex(value) }

    package func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let address = Unmanaged.passUnretained(self).toOpaque()
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            cweft_tsan_acquire(address)
            defer { cweft_tsan_release(address) }
            return try body(&value)
        }
    }
}
