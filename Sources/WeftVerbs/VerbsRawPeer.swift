import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// For the conformance suite's malformed-frame check: a verbs peer that completes the
/// handshake, then puts arbitrary bytes on the queue pair as one frame, bypassing the
/// encoder, and waits for the listener to end the connection.
package enum VerbsRawPeer {
    /// Connects to `address` as `transport`'s node, sends `bytes` (at most one send slot) as
    /// one send, and waits (up to 10 s) for the connection to end.
    package static func send(_ bytes: [UInt8], to address: String, transport: VerbsTransport) throws(TransportError) {
        let watcher = EndWatcher()
        let connection = try VerbsConnector.connect(
            to: address, device: transport.device, context: transport.context, configuration: transport.configuration,
            options: ConnectionOptions(), handler: watcher)
        defer { connection.close() }
        try connection.postRaw(bytes)
        let deadline = VerbsClock.now + 10_000_000_000
        while !watcher.ended.load(ordering: .acquiring) && VerbsClock.now < deadline { usleep(1000) }
    }

    /// Notes the end of the connection; frames are dropped.
    private final class EndWatcher: ConnectionHandler, Sendable {
        let ended = Atomic<Bool>(false)
        func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {}
        func closed(_ connection: any TransportConnection, error: TransportError?) {
            ended.store(true, ordering: .releasing)
        }
    }
}

extension VerbsConnection {
    /// Posts `bytes` as one send from a slot, as they are (header included): the raw peer's way
    /// to send what the encoder never would.
    package func postRaw(_ bytes: [UInt8]) throws(TransportError) {
        guard bytes.count <= slotBytes else { throw .messageTooLarge(size: bytes.count, limit: slotBytes) }
        sendLock?.lock()
        guard phase.load(ordering: .acquiring) == Phase.open.rawValue,
            tail &- completedSends.load(ordering: .acquiring) < slotCount, credits.load(ordering: .acquiring) > 0
        else {
            sendLock?.unlock()
            throw .wouldBlock
        }
        let frame = sendBase + Int(tail % slotCount) * slotBytes
        bytes.withUnsafeBytes { frame.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        postSlot(frame, token: tail, length: bytes.count)
    }
}
