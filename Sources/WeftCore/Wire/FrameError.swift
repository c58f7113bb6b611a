/// Why a frame was rejected. Each case closes the one connection it arrived on.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    case badMagic(UInt32)
    case unsupportedVersion(UInt8)
    case unknownKind(UInt8)
    case unknownFlags(UInt16)
    case tooLong(length: Int, limit: Int)
    case reservedNotZero
    case fragmentInconsistent
    case truncated(have: Int, need: Int)
    case unexpectedKind(MessageKind, state: String)
    case malformedPayload(String)
    /// Reassembling the message would pass the process's `reassembly.process-bytes` budget.
    case reassemblyOverBudget(need: Int, limit: Int)

    public var description: String {
        switch self {
        case .badMagic(let m): return "frame has bad magic 0x\(String(m, radix: 16)) (not a Weft peer?)"
        case .unsupportedVersion(let v): return "frame has protocol version \(v); this build speaks \(FrameLayout.version)"
        case .unknownKind(let k): return "frame has unknown kind \(k)"
        case .unknownFlags(let f): return "frame has unknown flag bits 0x\(String(f, radix: 16))"
        case .tooLong(let l, let limit): return "frame declares \(l) bytes, over the limit of \(limit)"
        case .reservedNotZero: return "frame's reserved field is not zero"
        case .fragmentInconsistent: return "frame's fragment fields contradict each other"
        case .truncated(let have, let need): return "connection ended inside a frame (\(have) of \(need) bytes)"
        case .unexpectedKind(let k, let state): return "unexpected \(k) frame while \(state)"
        case .malformedPayload(let why): return "malformed payload: \(why)"
        case .reassemblyOverBudget(let need, let limit):
            return "reassembling this message needs \(need) more bytes, over the process's reassembly budget of \(limit)"
        }
    }
}
