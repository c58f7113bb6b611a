internal import CWeftTCP
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Every system call the TCP transport makes, each bound once and retried on EINTR
/// (through `Syscall`). Nothing else in WeftTCP talks to the kernel.
///
/// Calls that may find nothing to do (`receive`, `send`, `accept`) return nil for
/// EAGAIN instead of throwing: on a non-blocking socket that is an answer, not a failure.
enum TCPSocket {
    // MARK: Set-up

    /// A non-blocking, close-on-exec stream socket. Corresponding C function: `socket`.
    static func open(family: Int32) throws(SystemError) -> Int32 {
        try Syscall.retrying("socket") { cweft_tcp_socket(family) }
    }

    /// Turns Nagle's delay off. Corresponding C function: `setsockopt(TCP_NODELAY)`.
    static func setNoDelay(_ fd: Int32) throws(SystemError) {
        _ = try Syscall.retrying("setsockopt(TCP_NODELAY)") { cweft_tcp_set_nodelay(fd) }
    }

    static func setReuseAddress(_ fd: Int32) throws(SystemError) {
        _ = try Syscall.retrying("setsockopt(SO_REUSEADDR)") { cweft_tcp_set_reuseaddr(fd) }
    }

    /// Corresponding C functions: `bind`, then `listen`.
    static func bindAndListen(_ fd: Int32, at address: TCPAddress, backlog: Int32) throws(SystemError) {
        var storage = address.storage
        let length = address.length
        _ = try Syscall.retrying("bind") { cweft_tcp_bind(fd, &storage, length) }
        _ = try Syscall.retrying("listen") { Glibc.listen(fd, backlog) }
    }

    /// One pending connection, already non-blocking; nil when none is waiting.
    /// Corresponding C function: `accept4`.
    static func accept(_ fd: Int32) throws(SystemError) -> (fd: Int32, peer: TCPAddress)? {
        var peer = TCPAddress()
        var length = socklen_t(0)
        guard let accepted = try Syscall.nonBlocking("accept4", { cweft_tcp_accept(fd, &peer.storage, &length) })
        else { return nil }
        peer.length = length
        return (accepted, peer)
    }

    /// Starts a non-blocking connect: true when it completed at once, false when in progress.
    /// Corresponding C function: `connect`.
    static func startConnect(_ fd: Int32, to address: TCPAddress) throws(SystemError) -> Bool {
        var storage = address.storage
        let length = address.length
        while true {
            if cweft_tcp_connect(fd, &storage, length) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EINPROGRESS: return false
            case let code: throw SystemError("connect", errno: code)
            }
        }
    }

    /// The error a finished non-blocking connect left (0: connected).
    /// Corresponding C function: `getsockopt(SO_ERROR)`.
    static func pendingError(_ fd: Int32) -> Int32 {
        let code = cweft_tcp_socket_error(fd)
        return code < 0 ? errno : code
    }

    /// Waits until `fd` is ready for `events` (`POLLIN`/`POLLOUT`) or `deadline` (monotonic ns)
    /// passes; false on timeout. Corresponding C function: `poll`.
    static func wait(_ fd: Int32, for events: Int16, until deadline: UInt64) throws(SystemError) -> Bool {
        while true {
            let now = TCPClock.now
            guard now < deadline else { return false }
            let milliseconds = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            let ready = cweft_tcp_poll(fd, events, milliseconds)
            if ready > 0 { return true }
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError("poll", errno: errno)
            }
        }
    }

    /// Corresponding C function: `getsockname`.
    static func localAddress(_ fd: Int32) throws(SystemError) -> TCPAddress {
        var address = TCPAddress()
        var length = socklen_t(0)
        _ = try Syscall.retrying("getsockname") { cweft_tcp_local_address(fd, &address.storage, &length) }
        address.length = length
        return address
    }

    /// Corresponding C function: `getpeername`.
    static func peerAddress(_ fd: Int32) -> TCPAddress? {
        var address = TCPAddress()
        var length = socklen_t(0)
        guard cweft_tcp_peer_address(fd, &address.storage, &length) == 0 else { return nil }
        address.length = length
        return address
    }

    /// Resolves an endpoint into socket addresses (numeric hosts need no lookup).
    /// Corresponding C function: `getaddrinfo`.
    static func resolve(_ endpoint: TCPEndpoint, passive: Bool) throws(TransportError) -> [TCPAddress] {
        let capacity = 8
        var storages = [sockaddr_storage](repeating: sockaddr_storage(), count: capacity)
        var lengths = [socklen_t](repeating: 0, count: capacity)
        let count = cweft_tcp_resolve(endpoint.host, endpoint.port, passive ? 1 : 0, &storages, &lengths, Int32(capacity))
        guard count > 0 else {
            let why = count < 0 ? String(cString: cweft_tcp_resolve_error(count)) : "no IPv4 or IPv6 address"
            throw .badAddress("cannot resolve '\(endpoint.host)': \(why)")
        }
        return (0..<Int(count)).map { index in
            var address = TCPAddress()
            address.storage = storages[index]
            address.length = lengths[index]
            return address
        }
    }

    // MARK: Who owns the other end (loopback without a secret)

    /// The uid owning the TCP socket whose own address is `local` and whose peer is `remote`,
    /// from the kernel's socket table. Corresponding C call: one exact `NETLINK_SOCK_DIAG`
    /// (inet_diag) request.
    static func socketOwner(local: TCPAddress, remote: TCPAddress) throws(SystemError) -> UInt32 {
        var uid: UInt32 = 0
        var localStorage = local.storage
        var remoteStorage = remote.storage
        _ = try Syscall.retrying("NETLINK_SOCK_DIAG") { cweft_tcp_diag_uid(&localStorage, &remoteStorage, &uid) }
        return uid
    }

    /// A whole procfs file (such as /proc/net/tcp); nil when it cannot be read.
    /// Corresponding C functions: `open`, `read`, `close`.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return contents }
            contents.append(contentsOf: chunk[0..<count])
        }
    }

    // MARK: Data

    /// Reads what is there, up to `count` bytes: nil when nothing is (EAGAIN), 0 at end of stream.
    /// Corresponding C function: `recv`.
    @inline(__always)
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws(SystemError) -> Int? {
        try Syscall.nonBlocking("recv") { cweft_tcp_recv(fd, buffer, count) }
    }

    /// Writes up to two segments at once (a ring's tail and head); nil when the socket is full.
    /// Corresponding C function: `sendmsg` (a `writev` with MSG_NOSIGNAL).
    @inline(__always)
    static func send(
        _ fd: Int32, _ first: UnsafeRawPointer, _ firstCount: Int, _ second: UnsafeRawPointer?, _ secondCount: Int
    ) throws(SystemError) -> Int? {
        try Syscall.nonBlocking("sendmsg") { cweft_tcp_send2(fd, first, firstCount, second, secondCount) }
    }

    /// Corresponding C function: `shutdown(SHUT_WR)`: the peer reads end of stream after our last byte.
    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, CWEFT_TCP_SHUT_WR)
    }

    /// Corresponding C function: `close`.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}

/// Monotonic time in nanoseconds (vDSO: no system call).
enum TCPClock {
    @inline(__always) static var now: UInt64 { cweft_tcp_now_ns() }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
