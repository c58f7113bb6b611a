internal import CWeftVerbs
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// Every libibverbs and librdmacm call the transport makes, each turned into a thrown
/// `SystemError` naming the call. The hot-path posts return errno instead of throwing.
enum VerbsSyscalls {
    // MARK: rdma_cm

    /// corresponding C function: `rdma_create_event_channel`.
    static func createEventChannel() throws(SystemError) -> UnsafeMutablePointer<rdma_event_channel> {
        guard let channel = rdma_create_event_channel() else {
            throw SystemError("rdma_create_event_channel", errno: errno)
        }
        return channel
    }

    /// corresponding C function: `rdma_create_id` (reliable-connected port space).
    static func createID(
        on channel: UnsafeMutablePointer<rdma_event_channel>?
    ) throws(SystemError) -> UnsafeMutablePointer<rdma_cm_id> {
        var id: UnsafeMutablePointer<rdma_cm_id>?
        guard rdma_create_id(channel, &id, nil, RDMA_PS_TCP) == 0, let id else {
            throw SystemError("rdma_create_id", errno: errno)
        }
        return id
    }

    /// Resolves `endpoint` to a socket address. corresponding C function: `getaddrinfo`.
    static func resolve(_ endpoint: VerbsEndpoint, passive: Bool) throws(TransportError) -> sockaddr_storage {
        var storage = sockaddr_storage()
        let rc = cweft_verbs_resolve(endpoint.host, String(endpoint.port), passive ? 1 : 0, &storage)
        guard rc == 0 else {
            throw .badAddress("cannot resolve '\(endpoint)': \(String(cString: gai_strerror(rc)))")
        }
        return storage
    }

    static func withSocketAddress<R>(
        _ storage: inout sockaddr_storage, _ body: (UnsafeMutablePointer<sockaddr>) throws(SystemError) -> R
    ) throws(SystemError) -> R {
        try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemError) -> R in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SystemError) -> R in
                try body(address)
            }
        }
    }

    /// "IP:PORT" of a socket address.
    static func describe(_ address: UnsafePointer<sockaddr>) -> String {
        var text = [CChar](repeating: 0, count: 80)
        guard cweft_verbs_format_address(address, &text, text.count) == 0 else { return "(unknown address)" }
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func isLoopback(_ storage: inout sockaddr_storage) -> Bool {
        withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cweft_verbs_is_loopback($0) != 0 }
        }
    }

    /// corresponding C function: `rdma_bind_addr`, then `rdma_listen`.
    static func bindAndListen(
        _ id: UnsafeMutablePointer<rdma_cm_id>, at storage: inout sockaddr_storage, backlog: Int32
    ) throws(SystemError) {
        try withSocketAddress(&storage) { address throws(SystemError) in
            guard rdma_bind_addr(id, address) == 0 else { throw SystemError("rdma_bind_addr", errno: errno) }
        }
        guard rdma_listen(id, backlog) == 0 else { throw SystemError("rdma_listen", errno: errno) }
    }

    /// The address an id is bound to, as "IP:PORT". corresponding C function: `rdma_get_local_addr`.
    static func localAddress(_ id: UnsafeMutablePointer<rdma_cm_id>) -> String {
        guard let address = rdma_get_local_addr(id) else { return "(unbound)" }
        return describe(address)
    }

    /// The peer's address. corresponding C function: `rdma_get_peer_addr`.
    static func peerAddress(_ id: UnsafeMutablePointer<rdma_cm_id>) -> String {
        guard let address = rdma_get_peer_addr(id) else { return "(unknown peer)" }
        return describe(address)
    }

    /// corresponding C function: `rdma_resolve_addr`.
    static func resolveAddress(
        _ id: UnsafeMutablePointer<rdma_cm_id>, to storage: inout sockaddr_storage, timeoutMilliseconds: Int32
    ) throws(SystemError) {
        try withSocketAddress(&storage) { address throws(SystemError) in
            guard rdma_resolve_addr(id, nil, address, timeoutMilliseconds) == 0 else {
                throw SystemError("rdma_resolve_addr", errno: errno)
            }
        }
    }

    /// corresponding C function: `rdma_resolve_route`.
    /// How long the queue pair retransmits an unacknowledged request before it fails: its
    /// retry count plus one local ACK time-outs of 4.096 µs × 2^timeout. Nil when unknown or
    /// unbounded (timeout 0). corresponding C function: `ibv_query_qp`.
    static func retransmissionWindow(_ qp: UnsafeMutablePointer<ibv_qp>) -> UInt64? {
        var attributes = ibv_qp_attr()
        var initial = ibv_qp_init_attr()
        let mask = Int32(bitPattern: IBV_QP_TIMEOUT.rawValue | IBV_QP_RETRY_CNT.rawValue)
        guard ibv_query_qp(qp, &attributes, mask, &initial) == 0, attributes.timeout > 0 else { return nil }
        return (UInt64(4096) << UInt64(min(attributes.timeout, 31))) * UInt64(attributes.retry_cnt + 1)
    }

    static func resolveRoute(_ id: UnsafeMutablePointer<rdma_cm_id>, timeoutMilliseconds: Int32) throws(SystemError) {
        guard rdma_resolve_route(id, timeoutMilliseconds) == 0 else { throw SystemError("rdma_resolve_route", errno: errno) }
    }

    /// corresponding C function: `rdma_connect` (or `rdma_accept` when `accepting`), with `privateData`.
    static func connectOrAccept(
        _ id: UnsafeMutablePointer<rdma_cm_id>, privateData: [UInt8], readsInFlight: UInt8, accepting: Bool
    ) throws(SystemError) {
        var parameters = rdma_conn_param()
        let rc = privateData.withUnsafeBytes { bytes in
            cweft_verbs_connection_parameters(
                &parameters, bytes.baseAddress, UInt8(bytes.count), readsInFlight, readsInFlight)
            return accepting ? rdma_accept(id, &parameters) : rdma_connect(id, &parameters)
        }
        guard rc == 0 else { throw SystemError(accepting ? "rdma_accept" : "rdma_connect", errno: errno) }
    }

    /// corresponding C function: `rdma_reject` (the peer sees a rejected connect).
    static func reject(_ id: UnsafeMutablePointer<rdma_cm_id>) { _ = rdma_reject(id, nil, 0) }

    /// Rejects with `reason` in the reject's private data (rdma_cm carries up to 148 bytes on
    /// IB and RoCE), so the connector can say why. corresponding C function: `rdma_reject`.
    static func reject(_ id: UnsafeMutablePointer<rdma_cm_id>, reason: [UInt8]) {
        let bytes = Array(reason.prefix(VerbsRefusal.maxBytes))
        _ = bytes.withUnsafeBytes { rdma_reject(id, $0.baseAddress, UInt8(bytes.count)) }
    }

    /// corresponding C function: `rdma_disconnect` (the QP moves to the error state).
    static func disconnect(_ id: UnsafeMutablePointer<rdma_cm_id>) { _ = rdma_disconnect(id) }

    /// corresponding C function: `rdma_migrate_id` (its events go to `channel` from now on).
    static func migrate(
        _ id: UnsafeMutablePointer<rdma_cm_id>, to channel: UnsafeMutablePointer<rdma_event_channel>
    ) throws(SystemError) {
        guard rdma_migrate_id(id, channel) == 0 else { throw SystemError("rdma_migrate_id", errno: errno) }
    }

    /// One pending event from a non-blocking channel, or nil. corresponding C function: `rdma_get_cm_event`.
    static func nextEvent(
        _ channel: UnsafeMutablePointer<rdma_event_channel>
    ) throws(SystemError) -> UnsafeMutablePointer<rdma_cm_event>? {
        var event: UnsafeMutablePointer<rdma_cm_event>?
        guard rdma_get_cm_event(channel, &event) == 0, let event else {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return nil }
            throw SystemError("rdma_get_cm_event", errno: code)
        }
        return event
    }

    /// corresponding C function: `rdma_ack_cm_event`.
    static func acknowledge(_ event: UnsafeMutablePointer<rdma_cm_event>) { _ = rdma_ack_cm_event(event) }

    /// The event's private data, copied. corresponding C field: `param.conn.private_data`.
    static func privateData(of event: UnsafeMutablePointer<rdma_cm_event>) -> [UInt8] {
        var length: UInt8 = 0
        guard let data = cweft_verbs_event_private_data(event, &length), length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
    }

    /// corresponding C function: `rdma_event_str`.
    static func name(of event: rdma_cm_event_type) -> String { String(cString: rdma_event_str(event)) }

    /// corresponding C function: `rdma_destroy_id`.
    static func destroy(_ id: UnsafeMutablePointer<rdma_cm_id>) { _ = rdma_destroy_id(id) }

    /// corresponding C function: `rdma_destroy_event_channel`.
    static func destroy(_ channel: UnsafeMutablePointer<rdma_event_channel>) { rdma_destroy_event_channel(channel) }

    static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        guard cweft_verbs_set_nonblocking(fd) == 0 else { throw SystemError("fcntl(O_NONBLOCK)", errno: errno) }
    }

    /// Waits until `fd` is readable or `deadline` (monotonic ns) passes; false on time-out.
    static func waitReadable(_ fd: Int32, until deadline: UInt64) throws(SystemError) -> Bool {
        while true {
            let now = VerbsClock.now
            guard now < deadline else { return false }
            let rc = cweft_verbs_wait_readable(fd, Int32(min(100, (deadline - now) / 1_000_000 + 1)))
            if rc > 0 { return true }
            if rc < 0 { throw SystemError("poll", errno: errno) }
        }
    }

    // MARK: Memory

    /// Registers `length` bytes at `address`. corresponding C function: `ibv_reg_mr`.
    static func register(
        _ pd: UnsafeMutablePointer<ibv_pd>, _ address: UnsafeMutableRawPointer, length: Int
    ) throws(SystemError) -> UnsafeMutablePointer<ibv_mr> {
        guard let region = cweft_verbs_register(pd, address, length) else {
            throw SystemError("ibv_reg_mr", errno: errno)
        }
        return region
    }

    /// corresponding C function: `ibv_dereg_mr`.
    static func deregister(_ region: UnsafeMutablePointer<ibv_mr>) { _ = ibv_dereg_mr(region) }

    /// The soft RLIMIT_MEMLOCK in bytes; nil when unlimited or lifted by CAP_IPC_LOCK.
    static func effectiveMemlockLimit() -> Int? {
        if cweft_verbs_has_ipc_lock() != 0 { return nil }
        let limit = cweft_verbs_memlock_limit()
        return limit < 0 ? nil : Int(limit)
    }

    // MARK: Hot path (no throwing, no allocation)

    /// corresponding C function: `ibv_post_send`. Returns 0 or errno.
    @inline(__always)
    static func postSend(
        _ qp: UnsafeMutablePointer<ibv_qp>, id: UInt64, _ address: UnsafeRawPointer, length: Int, lkey: UInt32,
        signaled: Bool, inline: Bool
    ) -> Int32 {
        cweft_verbs_post_send(qp, id, address, UInt32(length), lkey, signaled ? 1 : 0, inline ? 1 : 0)
    }

    /// corresponding C function: `ibv_post_send` with an RDMA READ work request. Returns 0 or errno.
    @inline(__always)
    static func postRead(
        _ qp: UnsafeMutablePointer<ibv_qp>, id: UInt64, into local: UnsafeMutableRawPointer, length: Int,
        lkey: UInt32, from remote: UInt64, rkey: UInt32
    ) -> Int32 {
        cweft_verbs_post_read(qp, id, local, UInt32(length), lkey, remote, rkey)
    }

    /// corresponding C function: `ibv_post_srq_recv`. Returns 0 or errno.
    @inline(__always)
    static func postReceive(
        _ srq: UnsafeMutablePointer<ibv_srq>, id: UInt64, _ address: UnsafeMutableRawPointer, length: Int,
        lkey: UInt32
    ) -> Int32 {
        cweft_verbs_post_srq_receive(srq, id, address, UInt32(length), lkey)
    }

    /// corresponding C function: `ibv_poll_cq`. Returns the completions written, or -1.
    @inline(__always)
    static func poll(_ cq: UnsafeMutablePointer<ibv_cq>, into completions: UnsafeMutablePointer<ibv_wc>, capacity: Int32)
        -> Int32
    {
        ibv_poll_cq(cq, capacity, completions)
    }

    /// corresponding C function: `ibv_req_notify_cq` (any completion).
    static func armNotification(_ cq: UnsafeMutablePointer<ibv_cq>) -> Int32 { ibv_req_notify_cq(cq, 0) }

    /// Takes one notification from a non-blocking completion channel; true when there was one.
    /// corresponding C function: `ibv_get_cq_event`.
    static func takeNotification(_ channel: UnsafeMutablePointer<ibv_comp_channel>) -> Bool {
        var cq: UnsafeMutablePointer<ibv_cq>?
        var context: UnsafeMutableRawPointer?
        return ibv_get_cq_event(channel, &cq, &context) == 0
    }

    /// corresponding C function: `ibv_wc_status_str`.
    static func describe(_ status: ibv_wc_status) -> String { String(cString: ibv_wc_status_str(status)) }
}

/// Monotonic nanoseconds for time limits (setup and close paths).
enum VerbsClock {
    static var now: UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
