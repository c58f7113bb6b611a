import Synchronization

/// A heap word that released frames write their end position into, read by the
/// connection's IO thread to learn how far its receive memory may be reused.
public final class ReleaseCursor: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Atomic<UInt64>>

    public init(_ initial: UInt64 = 0) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: Atomic(initial))
    }

    @inlinable public var position: UInt64 { pointer.pointee.load(ordering: .acquiring) }

    public func reset(to value: UInt64) { pointer.pointee.store(value, ordering: .releasing) }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
