import CWeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The IO thread's epoll instance and its wake-up eventfd. The only syscalls WeftCore makes.
final class Epoll {
    let fd: Int32
    let wakeFD: Int32
    static let wakeToken: UInt64 = .max

    init() throws(SystemError) {
        let epollFD = try Syscall.retrying("epoll_create1") { cweft_epoll_create() }
        let eventFD: Int32
        do {
            eventFD = try Syscall.retrying("eventfd") { cweft_eventfd() }
            _ = try Syscall.retrying("epoll_ctl") {
                cweft_epoll_ctl(epollFD, CWEFT_EPOLL_CTL_ADD, eventFD, CWEFT_EPOLLIN, Self.wakeToken)
            }
        } catch {
            Glibc.close(epollFD)
            throw error
        }
        fd = epollFD
        wakeFD = eventFD
    }

    func add(_ descriptor: Int32, events: IOEvents, token: UInt64) throws(SystemError) {
        _ = try Syscall.retrying("epoll_ctl(ADD)") {
            cweft_epoll_ctl(fd, CWEFT_EPOLL_CTL_ADD, descriptor, events.rawValue, token)
        }
    }

    func modify(_ descriptor: Int32, events: IOEvents, token: UInt64) throws(SystemError) {
        _ = try Syscall.retrying("epoll_ctl(MOD)") {
            cweft_epoll_ctl(fd, CWEFT_EPOLL_CTL_MOD, descriptor, events.rawValue, token)
        }
    }

    func remove(_ descriptor: Int32) {
        _ = cweft_epoll_ctl(fd, CWEFT_EPOLL_CTL_DEL, descriptor, 0, 0)
    }

    /// Waits up to `timeout` ms (-1: forever, 0: poll) and fills the buffers.
    func wait(
        tokens: UnsafeMutablePointer<UInt64>, events: UnsafeMutablePointer<UInt32>, capacity: Int32,
        timeout: Int32
    ) -> Int {
        let n = cweft_epoll_wait(fd, tokens, events, capacity, timeout)
        return n < 0 ? 0 : Int(n)
    }

    /// Wakes a thread blocked in `wait` (one 8-byte write to the eventfd).
    func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(wakeFD, $0.baseAddress, 8) }
    }

    func drainWake() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { Glibc.read(wakeFD, $0.baseAddress, 8) }
    }

    deinit {
        Glibc.close(wakeFD)
        Glibc.close(fd)
    }
}
