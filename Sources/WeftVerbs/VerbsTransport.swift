import WeftCore

/// InfiniBand verbs (libibverbs; RoCE and Soft-RoCE too): how the registry knows it.
///
/// The transport itself is not written yet. The probe lists the RDMA devices for real
/// (`ibv_get_device_list`), and both the probe and `make` say plainly why the transport
/// cannot run in this build: no device, or devices present and no verbs transport yet.
public enum VerbsTransportModule {
    public static let name = "verbs"

    /// Flipped when the transport lands; until then a host with RDMA devices still reports
    /// the transport as unavailable, so `auto` never picks it.
    static let isImplemented = false

    public static let descriptor = TransportDescriptor(
        name: name,
        summary: "InfiniBand verbs: RDMA over InfiniBand, RoCE or Soft-RoCE (libibverbs)",
        probe: { availability(devices: VerbsProbe.devices()) },
        make: { _, _ throws(TransportError) -> any Transport in
            switch availability(devices: VerbsProbe.devices()) {
            case .unavailable(let reason): throw .unavailable(reason)
            case .available: throw .unavailable(notImplemented)
            }
        })

    static let notImplemented = "the verbs transport is not implemented yet in this build"

    static func availability(devices: VerbsDevices) -> TransportAvailability {
        switch devices {
        case .none(let reason): return .unavailable(reason: reason)
        case .found(let names):
            return isImplemented
                ? .available
                : .unavailable(
                    reason: "RDMA devices found (\(names.joined(separator: ", "))), but \(notImplemented)")
        }
    }
}
