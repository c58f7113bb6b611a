import WeftCore

/// The sending half of `weft rate`: the request that announces the count, then `count`
/// data frames, reserved and committed on the calling (sender) thread as fast as
/// back-pressure allows.
struct RateSender: Sendable {
    let size: Int
    let count: Int
    let correlation: UInt64
    let timeoutSeconds: Int
    let connection: any TransportConnection
    let session: ClientSession

    /// Committed frames are pushed out at least every this many bytes (stream transports
    /// coalesce until a flush; the IO thread also flushes after each batch on its own).
    static let flushIntervalBytes = 64 << 10

    /// Sends everything; returns the monotonic time taken just before the first frame.
    func run() throws(CommandFailure) -> UInt64 {
        let started = monotonicNanoseconds()
        let request = try reserve(8)
        BenchProtocol.storeCount(UInt64(count), into: request.payload)
        request.commit(kind: .request, length: 8, channel: BenchProtocol.rateChannel, correlation: correlation)
        connection.flush()
        let flushEvery = max(1, Self.flushIntervalBytes / FrameHeader.paddedFrameSize(payload: size))
        var sinceFlush = 0
        if size > connection.maxReservation {
            try sendLarge()
            return started
        }
        // Batches of frames (one reservation and one commit for all of them where the
        // transport has batches; one frame each elsewhere).
        var sequence = 0
        while sequence < count {
            let wanted = min(count - sequence, Self.framesPerBatch)
            var batch = try retrying { () throws(TransportError) in
                try connection.reserveBatch(frames: wanted, capacity: size)
            }
            while sequence < count,
                let payload = batch.append(kind: .data, length: size, channel: BenchProtocol.rateChannel)
            {
                if size >= 8 { payload.storeBytes(of: UInt64(sequence).littleEndian, as: UInt64.self) }
                sequence += 1
            }
            sinceFlush += batch.count
            batch.commit()
            if sinceFlush >= flushEvery {
                connection.flush()
                sinceFlush = 0
            }
        }
        connection.flush()
        return started
    }

    /// Frames asked for per batch: 64 one-line records are 4 KiB of a ring.
    static let framesPerBatch = 64

    /// Messages over one reservation: `send` fragments each one and waits for space itself.
    private func sendLarge() throws(CommandFailure) {
        var payload = [UInt8](repeating: 0, count: size)
        for sequence in 0..<count {
            payload.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(sequence).littleEndian, as: UInt64.self) }
            let outcome = payload.withUnsafeBytes { raw in
                Result { () throws(TransportError) in
                    try connection.send(
                        raw, header: FrameHeader(kind: .data, channel: BenchProtocol.rateChannel),
                        timeout: .seconds(timeoutSeconds))
                }
            }
            if case .failure(let error) = outcome { throw .failed("cannot send message \(sequence): \(error)") }
            if Wakeup.wasInterrupted { throw .interrupted }
        }
        connection.flush()
    }

    /// Reserves, retrying on back-pressure; while it waits it pushes pending output out and
    /// now and then checks for interruption, the peer's death, the deadline and a closed
    /// connection.
    private func reserve(_ capacity: Int) throws(CommandFailure) -> SendReservation {
        try retrying { () throws(TransportError) in try connection.reserve(capacity: capacity) }
    }

    private func retrying<Reserved: ~Copyable>(
        _ reserve: () throws(TransportError) -> Reserved
    ) throws(CommandFailure) -> Reserved {
        var attempts = 0
        while true {
            do throws(TransportError) {
                return try reserve()
            } catch .wouldBlock {
                attempts += 1
                if attempts & 63 == 0 { connection.flush() }
                if attempts & 0xFFFF == 0 {
                    if Wakeup.wasInterrupted { throw .interrupted }
                    try session.peer?.checkAlive()
                    if monotonicNanoseconds() >= session.deadline {
                        throw .timedOut("the peer stopped draining within \(timeoutSeconds) s")
                    }
                    if connection.isClosed { throw .failed("the connection closed while sending") }
                }
            } catch {
                throw .failed("cannot send: \(error)")
            }
        }
    }
}
