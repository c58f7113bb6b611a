import WeftCore

/// The frames of the batch being gathered: a buffer a connection allocates once.
struct BatchBuffer: ~Copyable {
    static let capacity = 64
    let frames: UnsafeMutablePointer<ReceivedBatch.Frame>
    var count = 0

    init() { frames = .allocate(capacity: Self.capacity) }

    deinit { frames.deallocate() }

    var isFull: Bool { count == Self.capacity }

    @inline(__always)
    mutating func append(_ header: FrameHeader, payload: UnsafeRawPointer) {
        (frames + count).initialize(to: ReceivedBatch.Frame(header: header, payload: payload))
        count += 1
    }

    /// Hands the gathered frames to `handler` and empties the buffer.
    @inline(__always)
    mutating func deliver(to handler: any BatchConnectionHandler, on connection: any TransportConnection) {
        let batch = ReceivedBatch(frames: frames, count: count)
        count = 0
        handler.received(batch, on: connection)
    }
}
