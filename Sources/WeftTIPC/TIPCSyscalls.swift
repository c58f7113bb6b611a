internal import CWeftTIPC
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// A socket's TIPC identity: node address and port reference.
struct TIPCPort: Hashable, Sendable, CustomStringConvertible {
    var node: UInt32
    var ref: UInt32

    var description: String { "<\(String(node, radix: 16)):\(ref)>" }
}

/// One topology-server event about a Weft service name.
struct TIPCTopologyEvent: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case published, withdrawn, timedOut }
    var kind: Kind
    var address: TIPCServiceAddress
    var port: TIPCPort
}

/// Every system call the TIPC transport makes, each bound once and retried on EINTR
/// (through `Syscall`). Nothing else in WeftTIPC talks to the kernel.
///
/// Calls that may find nothing to do return nil for EAGAIN instead of throwing.
enum TIPCSyscalls {
    /// Largest message one TIPC send carries (66,000 bytes).
    static let maxMessageBytes = Int(CWEFT_TIPC_MAX_USER_MSG_SIZE)
    /// Most messages one batched call moves.
    static let batchLimit = 64
    static let pollIn = CWEFT_TIPC_POLLIN
    static let pollOut = CWEFT_TIPC_POLLOUT
    static let edgeTriggered = CWEFT_TIPC_EPOLLET

    /// A connection-oriented, message-preserving socket. Corresponding C function: `socket`.
    static func openSequentialPacket(nonBlocking: Bool = true) throws(SystemError) -> Int32 {
        try Syscall.retrying("socket(AF_TIPC, SOCK_SEQPACKET)") {
            cweft_tipc_socket(CWEFT_TIPC_SOCK_SEQPACKET, nonBlocking ? 1 : 0)
        }
    }

    /// Publishes `address` (cluster scope) and listens. Corresponding C functions: `bind`, `listen`.
    static func bindAndListen(_ fd: Int32, at address: TIPCServiceAddress, backlog: Int32) throws(SystemError) {
        _ = try Syscall.retrying("bind") {
            cweft_tipc_bind_service(fd, address.type, address.instance, address.instance)
        }
        _ = try Syscall.retrying("listen") { Glibc.listen(fd, backlog) }
    }

    /// One pending connection, already non-blocking; nil when none is waiting.
    /// Corresponding C function: `accept4`.
    static func accept(_ fd: Int32) throws(SystemError) -> (fd: Int32, peer: TIPCPort)? {
        var port = cweft_tipc_port()
        guard let accepted = try Syscall.nonBlocking("accept4", { cweft_tipc_accept(fd, &port) }) else { return nil }
        return (accepted, TIPCPort(node: port.node, ref: port.ref))
    }

    /// Starts a non-blocking connect: true when it completed at once, false when in progress.
    /// Corresponding C function: `connect`.
    static func startConnect(_ fd: Int32, to address: TIPCServiceAddress) throws(SystemError) -> Bool {
        while true {
            if cweft_tipc_connect_service(fd, address.type, address.instance) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EINPROGRESS: return false
            case let code: throw SystemError("connect to \(address)", errno: code)
            }
        }
    }

    /// The pending error of a socket (after a non-blocking connect). Corresponding C function: `getsockopt(SO_ERROR)`.
    static func pendingError(_ fd: Int32) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else { return errno }
        return code
    }

    static func ownPort(_ fd: Int32) -> TIPCPort? {
        var port = cweft_tipc_port()
        guard cweft_tipc_own_port(fd, &port) == 0 else { return nil }
        return TIPCPort(node: port.node, ref: port.ref)
    }

    static func peerPort(_ fd: Int32) -> TIPCPort? {
        var port = cweft_tipc_port()
        guard cweft_tipc_peer_port(fd, &port) == 0 else { return nil }
        return TIPCPort(node: port.node, ref: port.ref)
    }

    /// Sends `count` whole messages without blocking; nil when the connection is congested.
    /// Corresponding C function: `sendmmsg` (`sendmsg` for one).
    @inline(__always)
    static func sendBatch(
        _ fd: Int32, bases: UnsafePointer<UnsafeMutableRawPointer?>, lengths: UnsafePointer<UInt32>, count: Int
    ) throws(SystemError) -> Int? {
        try Syscall.nonBlocking("sendmmsg") { cweft_tipc_send_batch(fd, bases, lengths, Int32(count)) }.map(Int.init)
    }

    /// Receives up to `count` messages without blocking, each into its own slot of
    /// `capacity` bytes; nil when nothing is waiting, 0 when the peer ended the connection.
    /// A truncated message reports `UInt32.max` as its length. Corresponding C function: `recvmmsg`.
    @inline(__always)
    static func receiveBatch(
        _ fd: Int32, bases: UnsafePointer<UnsafeMutableRawPointer?>, capacity: Int, lengths: UnsafeMutablePointer<UInt32>,
        count: Int
    ) throws(SystemError) -> Int? {
        try Syscall.nonBlocking("recvmmsg") {
            cweft_tipc_receive_batch(fd, bases, UInt32(capacity), lengths, Int32(count))
        }.map(Int.init)
    }

    /// Sends one message (set-up path); nil when it would block. Corresponding C function: `send`.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Bool {
        try Syscall.nonBlocking("send") { cweft_tipc_send(fd, bytes.baseAddress, bytes.count) } != nil
    }

    /// Receives one message (set-up path): its length, 0 at the end, nil when none waits.
    /// Corresponding C function: `recvmsg`.
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        try Syscall.nonBlocking("recvmsg") { cweft_tipc_receive(fd, buffer.baseAddress, buffer.count) }.map { Int($0) }
    }

    /// Waits until `events` or `deadline` (monotonic ns): false on time-out. Corresponding C function: `poll`.
    static func wait(_ fd: Int32, for events: Int16, until deadline: UInt64) throws(SystemError) -> Bool {
        while true {
            let now = TIPCClock.now
            guard now < deadline else { return false }
            let milliseconds = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            let ready = cweft_tipc_poll(fd, events, milliseconds)
            if ready > 0 { return true }
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError("poll", errno: errno)
            }
        }
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    // MARK: Topology server

    /// A blocking socket connected to this node's topology server. Corresponding C function: `connect`.
    static func openTopology(nonBlocking: Bool) throws(SystemError) -> Int32 {
        let fd = try Syscall.retrying("socket(AF_TIPC, SOCK_SEQPACKET)") {
            cweft_tipc_socket(CWEFT_TIPC_SOCK_SEQPACKET, 0)
        }
        do {
            _ = try Syscall.retrying("connect to the TIPC topology server") { cweft_tipc_topology_connect(fd) }
            if nonBlocking {
                let flags = fcntl(fd, F_GETFL)
                _ = try Syscall.retrying("fcntl(O_NONBLOCK)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Subscribes to the publications of `type` in `lower...upper`: every socket's (ports)
    /// or only the first and last per instance (service); `timeout` nil lasts forever.
    /// Corresponding C function: `send` of a `struct tipc_subscr`.
    static func subscribe(
        _ fd: Int32, type: UInt32, lower: UInt32, upper: UInt32, perPort: Bool, timeoutMilliseconds: UInt32?
    ) throws(SystemError) {
        _ = try Syscall.retrying("subscribe to the TIPC topology server") {
            cweft_tipc_subscribe(
                fd, type, lower, upper, perPort ? CWEFT_TIPC_SUB_PORTS : CWEFT_TIPC_SUB_SERVICE,
                timeoutMilliseconds ?? CWEFT_TIPC_WAIT_FOREVER)
        }
    }

    /// The next topology event; nil when none waits (non-blocking socket).
    /// Throws when the server closed the subscription. Corresponding C function: `recv`.
    static func readEvent(_ fd: Int32) throws(SystemError) -> TIPCTopologyEvent? {
        var raw = cweft_tipc_event()
        guard let status = try Syscall.nonBlocking("recv from the TIPC topology server", { cweft_tipc_read_event(fd, &raw) })
        else { return nil }
        guard status == 1 else { throw SystemError("recv from the TIPC topology server (closed)", errno: ECONNRESET) }
        let kind: TIPCTopologyEvent.Kind
        switch raw.event {
        case CWEFT_TIPC_PUBLISHED: kind = .published
        case CWEFT_TIPC_WITHDRAWN: kind = .withdrawn
        default: kind = .timedOut
        }
        return TIPCTopologyEvent(
            kind: kind, address: TIPCServiceAddress(type: raw.type, instance: raw.lower),
            port: TIPCPort(node: raw.port.node, ref: raw.port.ref))
    }

    /// This node's bearers; empty when TIPC is not loaded or the kernel would not say
    /// (placement then follows the process's CPUs). Corresponding C call: a generic-netlink
    /// dump of TIPC_NL_BEARER_GET.
    static func bearers() -> [TIPCBearer] {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            guard let base = buffer.baseAddress, cweft_tipc_bearers(base, buffer.count) >= 0 else { return [] }
            return TIPCBearer.parse(String(cString: base))
        }
    }
}

enum TIPCClock {
    @inline(__always) static var now: UInt64 { cweft_tipc_now_ns() }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
