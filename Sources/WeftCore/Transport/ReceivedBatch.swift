/// A run of consecutive `data` frames handed to a `BatchConnectionHandler` in one call, where
/// they landed (a ring's records). They go back to the transport together when the call
/// returns: no frame, header pointer or payload may be kept past it (copy what must outlive
/// it). One call per run instead of one per frame is what a one-way stream of small messages
/// needs; requests, responses, fragments and control frames still come one at a time.
public struct ReceivedBatch: ~Copyable {
    /// One frame of the batch: its validated header and its payload in place.
    public struct Frame {
        public let header: FrameHeader
        public let payload: UnsafeRawPointer

        @inlinable
        public init(header: FrameHeader, payload: UnsafeRawPointer) {
            self.header = header
            self.payload = payload
        }

        /// The payload bytes in place, valid during the handler's call.
        @inlinable public var bytes: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: payload, count: Int(header.payloadLength))
        }
    }

    @usableFromInline let frames: UnsafePointer<Frame>
    public let count: Int

    @inlinable
    public init(frames: UnsafePointer<Frame>, count: Int) {
        self.frames = frames
        self.count = count
    }

    @inlinable
    public subscript(index: Int) -> Frame {
        precondition(index >= 0 && index < count, "batch index out of range")
        return frames[index]
    }
}

/// A handler that also takes runs of `data` frames in one call. Transports that deliver in
/// place from a ring (shared memory) use it when the handler conforms (decided when the
/// connection starts); the others, and every frame that is not plain `data`, go through
/// `received(_:on:)` as before. Order is kept across both calls.
public protocol BatchConnectionHandler: ConnectionHandler {
    func received(_ batch: borrowing ReceivedBatch, on connection: any TransportConnection)
}
