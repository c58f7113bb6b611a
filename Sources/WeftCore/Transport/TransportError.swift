/// What a transport operation can fail with, each case one sentence for the user.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No send space now; retry after the peer drains (back-pressure).
    case wouldBlock
    /// The message is larger than this connection can carry.
    case messageTooLarge(size: Int, limit: Int)
    /// The connection is closed; `reason` says why.
    case closed(reason: String)
    /// The peer broke the protocol; the connection was closed.
    case protocolViolation(FrameError)
    /// The handshake failed (version, identity or authentication).
    case handshakeFailed(String)
    /// The peer went away (process died, connection reset).
    case peerLost(String)
    /// The address could not be parsed or used.
    case badAddress(String)
    /// The transport cannot run here; the reason names what is missing.
    case unavailable(String)
    /// An operation did not finish in time.
    case timedOut(String)
    /// A system call failed.
    case system(SystemError)

    public var description: String {
        switch self {
        case .wouldBlock: return "no send space now (the peer is not draining)"
        case .messageTooLarge(let size, let limit):
            return "a message of \(size) bytes is over this connection's limit of \(limit)"
        case .closed(let reason): return "connection closed: \(reason)"
        case .protocolViolation(let error): return "protocol violation: \(error)"
        case .handshakeFailed(let why): return "handshake failed: \(why)"
        case .peerLost(let why): return "peer lost: \(why)"
        case .badAddress(let why): return "bad address: \(why)"
        case .unavailable(let why): return why
        case .timedOut(let what): return "timed out: \(what)"
        case .system(let error): return error.description
        }
    }
}
