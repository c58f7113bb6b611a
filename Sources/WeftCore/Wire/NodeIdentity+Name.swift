import Crypto

extension NodeIdentity {
    /// The identity a stable node name stands for: the first 128 bits of its SHA-256, so
    /// a node restarted with the same `node-name` is recognised as the same node.
    public init(name: String) {
        let digest = Array(SHA256.hash(data: Array(name.utf8)))
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(digest[index])
            low = low << 8 | UInt64(digest[index + 8])
        }
        self.init(high: high, low: low)
    }
}
