import Synchronization

/// A received frame, borrowed where it landed (a ring slot, a receive buffer, a
/// registered region). Its memory goes back to the transport when the frame is released,
/// explicitly or when it goes out of scope.
///
/// A connection delivers its next frame only after this one is released; holding a frame
/// therefore pauses that connection (and only that one).
public struct ReceivedFrame: ~Copyable {
    public let header: FrameHeader
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let releaseCursor: UnsafePointer<Atomic<UInt64>>
    @usableFromInline let releasePosition: UInt64

    /// `releaseCursor` receives `releasePosition` (release ordering) when the frame is released.
    @inlinable
    public init(
        header: FrameHeader, payload: UnsafeRawPointer,
        releaseCursor: UnsafePointer<Atomic<UInt64>>, releasePosition: UInt64
    ) {
        self.header = header
        self.base = payload
        self.releaseCursor = releaseCursor
        self.releasePosition = releasePosition
    }

    @inlinable public var kind: MessageKind { header.kind }
    @inlinable public var count: Int { Int(header.payloadLength) }

    /// The payload bytes in place. Valid until the frame is released.
    @inlinable
    public var payloadBaseAddress: UnsafeRawPointer { base }

    /// Scoped access to the payload in place; the buffer must not escape `body`.
    @inlinable
    public func withPayload<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: Int(header.payloadLength)))
    }

    /// Copies the payload out (for tests and slow paths).
    public func payloadBytes() -> [UInt8] { withPayload { Array($0) } }

    /// Gives the memory back now.
    @inlinable public consuming func release() {}

    @inlinable
    deinit { releaseCursor.pointee.store(releasePosition, ordering: .releasing) }
}
