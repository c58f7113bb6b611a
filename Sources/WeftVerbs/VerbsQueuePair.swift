internal import CWeftVerbs
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The verbs objects of one connection: its rdma_cm id (which owns the queue pair) and
/// the id's own event channel, a completion queue with its completion channel, and the
/// shared receive queue its receive buffers are posted to.
///
/// ```
/// rdma_cm id ── RC queue pair ──┬── send queue ──┐
///                               └── SRQ (receive buffers, reposted on release)
///                                                 └── one CQ (sends, receives, RDMA READs)
///                                                        └── completion channel fd (epoll, sleep mode)
/// ```
final class VerbsQueuePair: @unchecked Sendable {
    let id: UnsafeMutablePointer<rdma_cm_id>
    let eventChannel: UnsafeMutablePointer<rdma_event_channel>
    let completionChannel: UnsafeMutablePointer<ibv_comp_channel>
    let cq: UnsafeMutablePointer<ibv_cq>
    let srq: UnsafeMutablePointer<ibv_srq>
    let qp: UnsafeMutablePointer<ibv_qp>
    /// Bytes a send may carry inline (copied into the work request), as granted by the provider.
    let maxInlineData: Int
    /// Completion notifications taken and not yet acknowledged (acknowledged before the CQ goes).
    var unacknowledgedNotifications: UInt32 = 0

    private init(
        id: UnsafeMutablePointer<rdma_cm_id>, eventChannel: UnsafeMutablePointer<rdma_event_channel>,
        completionChannel: UnsafeMutablePointer<ibv_comp_channel>, cq: UnsafeMutablePointer<ibv_cq>,
        srq: UnsafeMutablePointer<ibv_srq>, qp: UnsafeMutablePointer<ibv_qp>, maxInlineData: Int
    ) {
        self.id = id
        self.eventChannel = eventChannel
        self.completionChannel = completionChannel
        self.cq = cq
        self.srq = srq
        self.qp = qp
        self.maxInlineData = maxInlineData
    }

    var completionFD: Int32 { completionChannel.pointee.fd }
    var eventFD: Int32 { eventChannel.pointee.fd }

    /// Creates the CQ, SRQ and queue pair on `id` (whose address is resolved, so `id.verbs` is set).
    /// On failure nothing is left behind but `id` and `eventChannel`, which stay the caller's.
    /// corresponding C functions: `ibv_create_comp_channel`, `ibv_create_cq`, `ibv_create_srq`, `rdma_create_qp`.
    static func create(
        id: UnsafeMutablePointer<rdma_cm_id>, eventChannel: UnsafeMutablePointer<rdma_event_channel>,
        device: VerbsDevice, configuration: VerbsConfiguration
    ) throws(SystemError) -> VerbsQueuePair {
        guard let context = id.pointee.verbs else { throw SystemError("rdma_cm id without a device", errno: ENODEV) }
        guard let channel = ibv_create_comp_channel(context) else {
            throw SystemError("ibv_create_comp_channel", errno: errno)
        }
        // Every READ this side may have posted (one per rendezvous in flight) has its place.
        let sendDepth = configuration.sendSlots + VerbsConfiguration.controlSlots + VerbsConfiguration.maxRendezvousInFlight + 4
        let receiveDepth = configuration.receiveCredits + VerbsConfiguration.controlReceives
        guard let cq = ibv_create_cq(context, Int32(sendDepth + receiveDepth + 16), nil, channel, 0) else {
            let code = errno
            _ = ibv_destroy_comp_channel(channel)
            throw SystemError("ibv_create_cq", errno: code)
        }
        do {
            try VerbsSyscalls.setNonBlocking(channel.pointee.fd)
        } catch {
            _ = ibv_destroy_cq(cq)
            _ = ibv_destroy_comp_channel(channel)
            throw error
        }
        var srqAttributes = ibv_srq_init_attr()
        srqAttributes.attr.max_wr = UInt32(receiveDepth)
        srqAttributes.attr.max_sge = 1
        guard let srq = ibv_create_srq(device.pd, &srqAttributes) else {
            let code = errno
            _ = ibv_destroy_cq(cq)
            _ = ibv_destroy_comp_channel(channel)
            throw SystemError("ibv_create_srq", errno: code)
        }
        var granted = 0
        var created = false
        var lastError: Int32 = 0
        // Ask for inline sends first; a provider without them refuses, so ask again without.
        for inline in [256, 0] where !created {
            var attributes = ibv_qp_init_attr()
            attributes.send_cq = cq
            attributes.recv_cq = cq
            attributes.srq = srq
            attributes.qp_type = IBV_QPT_RC
            attributes.sq_sig_all = 0
            attributes.cap.max_send_wr = UInt32(sendDepth)
            attributes.cap.max_send_sge = 1
            attributes.cap.max_inline_data = UInt32(inline)
            if rdma_create_qp(id, device.pd, &attributes) == 0 {
                created = true
                granted = Int(attributes.cap.max_inline_data)
            } else {
                lastError = errno
            }
        }
        guard created, let qp = id.pointee.qp else {
            _ = ibv_destroy_srq(srq)
            _ = ibv_destroy_cq(cq)
            _ = ibv_destroy_comp_channel(channel)
            throw SystemError("rdma_create_qp", errno: lastError)
        }
        return VerbsQueuePair(
            id: id, eventChannel: eventChannel, completionChannel: channel, cq: cq, srq: srq, qp: qp,
            maxInlineData: granted)
    }

    /// Frees everything, the id and its event channel included: the queue pair first, then
    /// the SRQ, the CQ (after acknowledging its notifications), the channels.
    /// corresponding C functions: `rdma_destroy_qp`, `ibv_destroy_srq`, `ibv_ack_cq_events`,
    /// `ibv_destroy_cq`, `ibv_destroy_comp_channel`, `rdma_destroy_id`, `rdma_destroy_event_channel`.
    func destroy() {
        rdma_destroy_qp(id)
        _ = ibv_destroy_srq(srq)
        if unacknowledgedNotifications > 0 { ibv_ack_cq_events(cq, unacknowledgedNotifications) }
        unacknowledgedNotifications = 0
        _ = ibv_destroy_cq(cq)
        _ = ibv_destroy_comp_channel(completionChannel)
        VerbsSyscalls.destroy(id)
        VerbsSyscalls.destroy(eventChannel)
    }

    /// Takes pending completion notifications (non-blocking channel), acknowledging them in batches.
    func drainNotifications() {
        while VerbsSyscalls.takeNotification(completionChannel) { unacknowledgedNotifications += 1 }
        if unacknowledgedNotifications >= 64 {
            ibv_ack_cq_events(cq, unacknowledgedNotifications)
            unacknowledgedNotifications = 0
        }
    }
}
