/// Where one ring lives: its data (`size` bytes, a power of two) and the consumer's two
/// words in the control page. In its own file so that the consumer can be driven over any
/// memory, as the fuzzer does (`fuzz/RingFuzz.swift`), not only over a mapping.
struct RingMemory {
    let data: UnsafeMutableRawPointer
    let size: UInt64
    let head: UnsafeMutablePointer<UInt64>
    let sleeping: UnsafeMutablePointer<UInt32>
}
