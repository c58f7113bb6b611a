import CWeftSharedMemory
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Every system call the shared-memory transport makes, EINTR-safe and throwing one sentence.
enum SharedMemorySyscalls {
    static func memfd(name: String) throws(SystemError) -> Int32 {
        try Syscall.retrying("memfd_create") { cweft_memfd_create(name) }
    }

    static func truncate(_ fd: Int32, to size: Int) throws(SystemError) {
        _ = try Syscall.retrying("ftruncate") { ftruncate(fd, off_t(size)) }
    }

    static func size(of fd: Int32) throws(SystemError) -> Int {
        var info = stat()
        _ = try Syscall.retrying("fstat") { fstat(fd, &info) }
        return Int(info.st_size)
    }

    /// Fixes the memfd's size (no shrink, no growth, no further seals): a peer holding the
    /// descriptor can no longer truncate the pages under our mapping (which would be SIGBUS).
    /// Corresponding C function: `fcntl(F_ADD_SEALS)`.
    static func sealSize(_ fd: Int32) throws(SystemError) {
        _ = try Syscall.retrying("fcntl(F_ADD_SEALS)") { cweft_memfd_seal_size(fd) }
    }

    /// True when the memfd's size is sealed; throws when `fd` is not a sealable memfd.
    /// Corresponding C function: `fcntl(F_GET_SEALS)`.
    static func isSizeSealed(_ fd: Int32) throws(SystemError) -> Bool {
        try Syscall.retrying("fcntl(F_GET_SEALS)") { cweft_memfd_is_size_sealed(fd) } == 1
    }

    /// Maps `fd` shared. `populate`: fault every page in now (`MAP_POPULATE`), for the creator;
    /// the acceptor maps lazily, so a large ring costs its IO thread nothing at set-up.
    static func mapShared(_ fd: Int32, size: Int, populate: Bool) throws(SystemError) -> UnsafeMutableRawPointer {
        let flags = MAP_SHARED | (populate ? MAP_POPULATE : 0)
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, flags, fd, 0),
            base != MAP_FAILED
        else { throw SystemError("mmap", errno: errno) }
        return base
    }

    static func unmap(_ base: UnsafeMutableRawPointer, size: Int) { munmap(base, size) }

    /// Puts private zero pages where the shared mapping was, at the same addresses: the shared
    /// pages are let go, and a late access (a sender racing the close) lands harmlessly.
    static func replaceWithPrivatePages(_ base: UnsafeMutableRawPointer, size: Int) -> Bool {
        let replaced = mmap(base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
        return replaced == base
    }

    static func eventFD() throws(SystemError) -> Int32 {
        try Syscall.retrying("eventfd") { cweft_eventfd_nonblocking() }
    }

    /// Wakes the peer's IO thread. corresponding C function: `write` on an eventfd.
    @inline(__always)
    static func signal(_ eventFD: Int32) {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(eventFD, $0.baseAddress, 8) }
    }

    static func drain(_ eventFD: Int32) {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(eventFD, $0.baseAddress, 8) }
    }

    static func pidfd(_ pid: Int32) throws(SystemError) -> Int32 {
        try Syscall.retrying("pidfd_open") { cweft_pidfd_open(pid) }
    }

    static func peerCredentials(_ fd: Int32) throws(SystemError) -> (pid: Int32, uid: UInt32) {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        _ = try Syscall.retrying("getsockopt(SO_PEERCRED)") { cweft_peer_credentials(fd, &pid, &uid) }
        return (pid, uid)
    }

    static func listen(name: String) throws(SystemError) -> Int32 {
        try Syscall.retrying("bind/listen(abstract unix socket)") { cweft_seqpacket_listen(name, 128) }
    }

    static func connect(name: String) throws(SystemError) -> Int32 {
        try Syscall.retrying("connect(abstract unix socket)") { cweft_seqpacket_connect(name) }
    }

    static func accept(_ fd: Int32) throws(SystemError) -> Int32? {
        try Syscall.nonBlocking("accept4") { cweft_accept_nonblocking(fd) }
    }

    static func setReceiveTimeout(_ fd: Int32, milliseconds: Int) {
        var value = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    static func send(_ fd: Int32, bytes: [UInt8], fds: [Int32]) throws(SystemError) {
        let sent = bytes.withUnsafeBytes { raw in
            fds.withUnsafeBufferPointer { cweft_send_with_fds(fd, raw.baseAddress, raw.count, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == bytes.count else { throw SystemError("sendmsg", errno: sent < 0 ? errno : EMSGSIZE) }
    }

    /// One message and its descriptors; nil when the peer closed; throws on error or EAGAIN.
    static func receive(_ fd: Int32, capacity: Int) throws(SystemError) -> (bytes: [UInt8], fds: [Int32])? {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var fds = [Int32](repeating: -1, count: 4)
        var count: Int32 = 0
        let received = buffer.withUnsafeMutableBytes { raw in
            fds.withUnsafeMutableBufferPointer { cweft_recv_with_fds(fd, raw.baseAddress, raw.count, $0.baseAddress, 4, &count) }
        }
        if received < 0 { throw SystemError("recvmsg", errno: errno) }
        if received == 0 { return nil }
        return (Array(buffer[0..<received]), Array(fds[0..<Int(count)]))
    }
}
