internal import CWeftVerbs
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `weft info --json` says about each RDMA device: its NUMA node, the inline size a
/// queue pair gets, and each port's state, link layer and GIDs. Read on the info path only.
public struct VerbsDeviceReport: Sendable, Equatable {
    public struct Port: Sendable, Equatable {
        public var number: Int
        public var state: String
        public var linkLayer: String
        public var gids: [String]
    }

    public var name: String
    /// NUMA node of the device's PCI function (nil: unknown, as sysfs's -1).
    public var node: Int?
    /// `max_inline_data` a reliable-connected queue pair is granted when it asks for 256 bytes.
    public var maxInlineData: Int?
    public var ports: [Port]

    /// Every device, or one sentence saying why there is none.
    /// corresponding C functions: `ibv_get_device_list`, `ibv_open_device`, `ibv_query_port`, `ibv_query_gid`.
    public static func collect() -> Result<[VerbsDeviceReport], TransportError> {
        var count: Int32 = 0
        errno = 0
        guard let list = ibv_get_device_list(&count) else {
            if case .none(let reason) = VerbsProbe.devices() { return .failure(.unavailable(reason)) }
            return .success([])
        }
        defer { ibv_free_device_list(list) }
        var reports: [VerbsDeviceReport] = []
        for index in 0..<Int(count) {
            guard let device = list[index] else { break }
            let name = String(cString: ibv_get_device_name(device))
            var report = VerbsDeviceReport(name: name, node: numaNode(device: name), maxInlineData: nil, ports: [])
            if let context = ibv_open_device(device) {
                report.ports = ports(of: context)
                report.maxInlineData = inlineSize(of: context)
                _ = ibv_close_device(context)
            }
            reports.append(report)
        }
        return .success(reports)
    }

    static func ports(of context: UnsafeMutablePointer<ibv_context>) -> [Port] {
        var attributes = ibv_device_attr()
        guard ibv_query_device(context, &attributes) == 0 else { return [] }
        var ports: [Port] = []
        for number in 1...max(1, attributes.phys_port_cnt) {
            var port = ibv_port_attr()
            guard cweft_verbs_query_port(context, number, &port) == 0 else { continue }
            var gids: [String] = []
            for index in 0..<Int32(port.gid_tbl_len) {
                var gid = ibv_gid()
                guard ibv_query_gid(context, number, index, &gid) == 0 else { continue }
                let bytes = withUnsafeBytes(of: gid.raw) { Array($0) }
                if bytes.allSatisfy({ $0 == 0 }) { continue }
                gids.append(format(gid: bytes))
            }
            ports.append(
                Port(
                    number: Int(number), state: stateName(port.state),
                    linkLayer: port.link_layer == UInt8(IBV_LINK_LAYER_ETHERNET) ? "Ethernet" : "InfiniBand",
                    gids: gids))
        }
        return ports
    }

    /// Asks for a queue pair with 256 inline bytes and reads back what the provider grants.
    /// corresponding C functions: `ibv_alloc_pd`, `ibv_create_cq`, `ibv_create_qp`.
    static func inlineSize(of context: UnsafeMutablePointer<ibv_context>) -> Int? {
        guard let pd = ibv_alloc_pd(context) else { return nil }
        defer { _ = ibv_dealloc_pd(pd) }
        guard let cq = ibv_create_cq(context, 4, nil, nil, 0) else { return nil }
        defer { _ = ibv_destroy_cq(cq) }
        var attributes = ibv_qp_init_attr()
        attributes.send_cq = cq
        attributes.recv_cq = cq
        attributes.qp_type = IBV_QPT_RC
        attributes.cap.max_send_wr = 4
        attributes.cap.max_recv_wr = 4
        attributes.cap.max_send_sge = 1
        attributes.cap.max_recv_sge = 1
        attributes.cap.max_inline_data = 256
        guard let qp = ibv_create_qp(pd, &attributes) else { return nil }
        _ = ibv_destroy_qp(qp)
        return Int(attributes.cap.max_inline_data)
    }

    /// sysfs: the device's own `numa_node`, else (Soft-RoCE) that of the PCI function under
    /// its parent network interface; -1 means unknown.
    static func numaNode(device: String) -> Int? {
        let base = "/sys/class/infiniband/\(device)"
        var candidates = ["\(base)/device/numa_node"]
        if let parent = readLine(path: "\(base)/parent") {
            candidates += ["/sys/class/net/\(parent)/device/numa_node", "/sys/class/net/\(parent)/device/../numa_node"]
        }
        for path in candidates {
            if let text = readLine(path: path), let node = Int(text) { return node >= 0 ? node : nil }
        }
        return nil
    }

    private static func readLine(path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 128)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.trimmingNewline()
        return text.isEmpty ? nil : text
    }

    /// A GID as eight colon-separated groups of four hex digits.
    static func format(gid bytes: [UInt8]) -> String {
        stride(from: 0, to: 16, by: 2).map { index in
            let value = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 4 - hex.count) + hex
        }.joined(separator: ":")
    }

    /// "ACTIVE", "DOWN", … corresponding C function: `ibv_port_state_str`.
    static func stateName(_ state: ibv_port_state) -> String {
        let text = String(cString: ibv_port_state_str(state)).uppercased()
        return text.hasPrefix("PORT_") ? String(text.dropFirst(5)) : text
    }
}

extension String {
    fileprivate func trimmingNewline() -> String {
        var text = self
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text
    }
}
