// The input of a fuzz target read as a sequence of choices (shared by the stream, ring and
// envelope targets).

/// Reads the input front to back; past its end every read gives zeros.
struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isEmpty: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func word() -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return value
    }

    /// The next `count` bytes (fewer at the end of the input).
    mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let start = min(position, bytes.count)
        position = min(start + count, bytes.count)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<position])
    }

    /// Copies the next `count` bytes to `destination`, zeros past the end of the input.
    mutating func copy(to destination: UnsafeMutableRawPointer, count: Int) {
        let taken = take(count)
        if let base = taken.baseAddress { destination.copyMemory(from: base, byteCount: taken.count) }
        (destination + taken.count).initializeMemory(as: UInt8.self, repeating: 0, count: count - taken.count)
    }
}
