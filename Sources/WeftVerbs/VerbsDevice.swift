internal import CWeftVerbs
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// One opened RDMA device: its verbs context (the one rdma_cm uses for ids on its
/// interfaces), the port connections use, a protection domain and the registered pool.
final class VerbsDevice: @unchecked Sendable {
    let context: UnsafeMutablePointer<ibv_context>
    let name: String
    let port: UInt8
    let pd: UnsafeMutablePointer<ibv_pd>
    let pool: VerbsMemoryPool
    /// RDMA READs one queue pair may have in flight (initiator and responder side).
    let readsInFlight: UInt8

    private init(
        context: UnsafeMutablePointer<ibv_context>, name: String, port: UInt8, pd: UnsafeMutablePointer<ibv_pd>,
        pool: VerbsMemoryPool, readsInFlight: UInt8
    ) {
        self.context = context
        self.name = name
        self.port = port
        self.pd = pd
        self.pool = pool
        self.readsInFlight = readsInFlight
    }

    deinit { _ = ibv_dealloc_pd(pd) }

    /// Opens `wanted` (or the first device with an active port) and registers its pool.
    /// corresponding C functions: `rdma_get_devices`, `ibv_query_device`, `ibv_query_port`, `ibv_alloc_pd`.
    static func open(_ configuration: VerbsConfiguration, memoryNode: Int?) throws(TransportError) -> VerbsDevice {
        var count: Int32 = 0
        guard let list = rdma_get_devices(&count), count > 0 else {
            if case .none(let reason) = VerbsProbe.devices() { throw .unavailable(reason) }
            throw .unavailable("no RDMA device is usable through rdma_cm (rdma_get_devices found none)")
        }
        defer { rdma_free_devices(list) }
        var candidates: [(context: UnsafeMutablePointer<ibv_context>, name: String)] = []
        for index in 0..<Int(count) {
            guard let context = list[index] else { continue }
            candidates.append((context, String(cString: ibv_get_device_name(context.pointee.device))))
        }
        if let wanted = configuration.deviceName {
            guard let match = candidates.first(where: { $0.name == wanted }) else {
                throw .unavailable(
                    "verbs.device is '\(wanted)' but this host's RDMA devices are \(candidates.map(\.name).joined(separator: ", "))"
                )
            }
            candidates = [match]
        }
        var states: [String] = []
        for candidate in candidates {
            var attributes = ibv_device_attr()
            guard ibv_query_device(candidate.context, &attributes) == 0 else {
                states.append("\(candidate.name): ibv_query_device failed")
                continue
            }
            var activePort: UInt8?
            for port in 1...max(1, attributes.phys_port_cnt) {
                var portAttributes = ibv_port_attr()
                guard cweft_verbs_query_port(candidate.context, port, &portAttributes) == 0 else { continue }
                if portAttributes.state == IBV_PORT_ACTIVE {
                    activePort = port
                    break
                }
                states.append("\(candidate.name) port \(port) is \(VerbsDeviceReport.stateName(portAttributes.state))")
            }
            guard let port = activePort else { continue }
            guard let pd = ibv_alloc_pd(candidate.context) else {
                throw .system(SystemError("ibv_alloc_pd on \(candidate.name)", errno: errno))
            }
            let pool: VerbsMemoryPool
            do {
                pool = try VerbsMemoryPool(
                    pd: pd, deviceName: candidate.name, chunkBytes: configuration.connectionBytes,
                    memoryNode: memoryNode)
            } catch {
                _ = ibv_dealloc_pd(pd)
                throw error
            }
            let reads = UInt8(clamping: min(16, max(1, min(Int(attributes.max_qp_rd_atom), Int(attributes.max_qp_init_rd_atom)))))
            return VerbsDevice(
                context: candidate.context, name: candidate.name, port: port, pd: pd, pool: pool, readsInFlight: reads)
        }
        throw .unavailable(
            "no RDMA port is ACTIVE (\(states.joined(separator: "; "))): bring the link up (`ip link set IFACE up`)"
                + " or choose another device with --verbs-device")
    }

    /// The port's state now, as `ibv_port_state_str` names it ("ACTIVE", "DOWN"). corresponding C function: `ibv_query_port`.
    func portState() -> String? {
        var attributes = ibv_port_attr()
        guard cweft_verbs_query_port(context, port, &attributes) == 0 else { return nil }
        return VerbsDeviceReport.stateName(attributes.state)
    }
}
