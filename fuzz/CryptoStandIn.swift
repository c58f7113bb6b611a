// Stands in for swift-crypto in the fuzz build only (scripts/fuzz compiles WeftCore's
// security sources with `import Crypto` removed, plus this file). It offers the few names
// those sources use, `SymmetricKey`, `SHA256` and `HMAC<SHA256>`, with a cheap keyed hash
// instead of HMAC-SHA256: the fuzzer explores the parsing and state checks around the MAC,
// not the MAC itself. Never linked into Weft.

struct SymmetricKey: Sendable {
    let bytes: [UInt8]
    init(data: some Sequence<UInt8>) { bytes = Array(data) }
}

enum SHA256 {}

struct HMAC<Hash>: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    init(key: SymmetricKey) { update(data: key.bytes) }

    mutating func update(data: some Sequence<UInt8>) {
        for byte in data {
            state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
    }

    /// 32 bytes, like HMAC-SHA256.
    func finalize() -> [UInt8] {
        var out: [UInt8] = []
        var value = state
        for _ in 0..<32 {
            value = (value ^ (value >> 29)) &* 0xbf58_476d_1ce4_e5b9
            out.append(UInt8(truncatingIfNeeded: value >> 56))
        }
        return out
    }
}
