import WeftVerbs

/// How `weft pingpong` and `weft rate` talk to `weft serve`: ordinary Weft frames, told
/// apart by channel.
///
/// - Echo (channel 0): every `request` is answered by a `response` with the same
///   correlation id, channel and payload.
/// - Rate (channel 1): the client sends one `request` whose payload is the number of `data`
///   frames to follow (u64, little-endian), then that many `data` frames on channel 1. The
///   server counts them and answers that request, with the same correlation id and the
///   count it received (u64, little-endian) as payload, once it has received them all
///   (at once when the count is 0). One round trip frames the whole stream: frames of one
///   connection arrive in order, so nothing is counted before the request.
///
/// `data` frames on any channel are counted for the server's summary.
enum BenchProtocol {
    static let echoChannel: UInt32 = 0
    static let rateChannel: UInt32 = 1

    static func storeCount(_ count: UInt64, into payload: UnsafeMutableRawBufferPointer) {
        payload.baseAddress!.storeBytes(of: count.littleEndian, as: UInt64.self)
    }

    static func loadCount(from payload: UnsafeRawBufferPointer) -> UInt64? {
        guard payload.count >= 8 else { return nil }
        return UInt64(littleEndian: payload.baseAddress!.loadUnaligned(as: UInt64.self))
    }

    /// A local address to listen at for a peer this process starts itself.
    static func localListenAddress(transport: String, tag: String) -> String? {
        switch transport {
        case "shm": return "weft-\(tag)-\(getProcessID())"
        case "tcp": return "127.0.0.1:0"
        // A free instance of the configured service type (the listener prints which).
        case "tipc": return "*"
        case "verbs": return VerbsInterfaceAddress.listenAddress()
        default: return nil
        }
    }
}
