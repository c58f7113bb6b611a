/// The one-byte tag that starts every encoded value. Tags make the encoding
/// self-describing, so a decoder can skip a value it does not want and report a type
/// mismatch instead of misreading bytes. Values are wire constants: never renumber.
///
/// | tag | value | bytes after the tag |
/// |---:|---|---|
/// | 0x00 | nil | none |
/// | 0x01 / 0x02 | false / true | none |
/// | 0x11–0x14 | Int8, Int16, Int32, Int64 (and Int) | 1, 2, 4, 8, little-endian |
/// | 0x15–0x18 | UInt8, UInt16, UInt32, UInt64 (and UInt) | 1, 2, 4, 8, little-endian |
/// | 0x20 / 0x21 | Float, Double | 4 / 8, IEEE 754 bits, little-endian |
/// | 0x30 | String | u32 byte length, UTF-8 |
/// | 0x40 | unkeyed container (arrays, sets) | u32 count, then `count` values |
/// | 0x41 | keyed container (structs, dictionaries) | u32 count, then `count` × (u16 key length, UTF-8 key, value) |
public enum BinaryTag: UInt8, Sendable {
    case null = 0x00
    case `false` = 0x01
    case `true` = 0x02
    case int8 = 0x11
    case int16 = 0x12
    case int32 = 0x13
    case int64 = 0x14
    case uint8 = 0x15
    case uint16 = 0x16
    case uint32 = 0x17
    case uint64 = 0x18
    case float = 0x20
    case double = 0x21
    case string = 0x30
    case unkeyed = 0x40
    case keyed = 0x41

    /// Bytes of a fixed-size value after its tag; nil for strings and containers.
    var fixedSize: Int? {
        switch self {
        case .null, .false, .true: return 0
        case .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float: return 4
        case .int64, .uint64, .double: return 8
        case .string, .unkeyed, .keyed: return nil
        }
    }
}
