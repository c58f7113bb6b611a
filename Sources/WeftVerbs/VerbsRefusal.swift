/// Why a verbs listener refused a connect request, carried in the reject's private data:
/// a tag that tells it from other rejects, then the sentence (UTF-8, cut to fit).
enum VerbsRefusal {
    /// rdma_cm's reject private data on IB and RoCE holds 148 bytes.
    static let maxBytes = 148
    private static let tag: [UInt8] = Array("WEFT-REFUSED:".utf8)

    static func encode(_ reason: String) -> [UInt8] {
        var bytes = tag + Array(reason.utf8.prefix(maxBytes - tag.count))
        // Never leave half of a multi-byte character at the end.
        while String(validating: bytes[tag.count...], as: UTF8.self) == nil { bytes.removeLast() }
        return bytes
    }

    /// The sentence, or nil when `data` is not a Weft refusal.
    static func decode(_ data: [UInt8]) -> String? {
        guard data.count >= tag.count, Array(data.prefix(tag.count)) == tag else { return nil }
        let text = data[tag.count...].prefix { $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }
}
