import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A refused connector's socket stays open until the connector hangs up. Closing a Unix
/// socket that still holds an unread message (a hello that arrived after the listener
/// took the first one) resets the connection, and the connector would then read
/// ECONNRESET instead of the reason it was refused. At most `maxRefusedKept` are kept,
/// so a connector that never hangs up costs a bounded number of descriptors (IO thread).
extension SharedMemoryListener {
    static let maxRefusedKept = 16

    /// Sends nothing more on `socket` and watches it until the connector hangs up.
    func keepUntilHangup(_ socket: Int32) {
        guard let registration else {
            Glibc.close(socket)
            return
        }
        if refused.count >= Self.maxRefusedKept { letGoOfRefused(refused[0]) }
        _ = shutdown(socket, Int32(SHUT_WR))
        do {
            try ioThread.watch(
                socket, events: [.readable, .peerHangup], for: registration, token: Self.refusedToken(socket),
                pollWhileSpinning: false)
        } catch {
            Glibc.close(socket)
            return
        }
        refused.append(socket)
    }

    /// Tokens of refused sockets: the descriptor plus one (0 is the listening socket).
    static func refusedToken(_ socket: Int32) -> UInt32 { UInt32(bitPattern: socket) &+ 1 }

    /// Takes what a refused connector sent (closing any descriptors passed); lets go once it
    /// hung up.
    func refusedSocketReady(token: UInt32, events: UInt32) {
        let socket = Int32(bitPattern: token &- 1)
        guard refused.contains(socket) else { return }
        let ended = IOEvents.hangup.rawValue | IOEvents.peerHangup.rawValue | IOEvents.error.rawValue
        var hungUp = events & ended != 0
        while !hungUp {
            do throws(SystemError) {
                guard let message = try SharedMemorySyscalls.receive(socket, capacity: SharedMemoryHandshakeMessage.maxSize)
                else {
                    hungUp = true
                    break
                }
                SharedMemoryHandshakeMessage.closeAll(message.fds)
            } catch {
                hungUp = error.errno != EAGAIN
                break
            }
        }
        if hungUp { letGoOfRefused(socket) }
    }

    func letGoOfRefused(_ socket: Int32) {
        refused.removeAll { $0 == socket }
        ioThread.unwatch(socket, pollWhileSpinning: false)
        while let message = try? SharedMemorySyscalls.receive(socket, capacity: SharedMemoryHandshakeMessage.maxSize) {
            SharedMemoryHandshakeMessage.closeAll(message.fds)
        }
        Glibc.close(socket)
    }
}
