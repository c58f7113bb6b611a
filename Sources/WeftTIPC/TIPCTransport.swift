import WeftCore

/// Linux TIPC (AF_TIPC sockets, no libtipc): how the registry knows it.
///
/// The transport itself is not written yet. The probe asks the kernel for real
/// (`socket(AF_TIPC, SOCK_RDM, 0)`), and both the probe and `make` say plainly why the
/// transport cannot run in this build: either the kernel lacks TIPC, or it has it and
/// this build has no TIPC transport yet. Nothing pretends.
public enum TIPCTransportModule {
    public static let name = "tipc"

    /// Flipped when the transport lands; until then a TIPC-capable kernel still reports
    /// the transport as unavailable, so `auto` never picks it.
    static let isImplemented = false

    public static let descriptor = TransportDescriptor(
        name: name,
        summary: "Linux TIPC: kernel-routed reliable datagrams between cluster nodes (AF_TIPC sockets)",
        probe: { availability(kernel: TIPCProbe.kernelSupport()) },
        make: { _, _ throws(TransportError) -> any Transport in
            switch availability(kernel: TIPCProbe.kernelSupport()) {
            case .unavailable(let reason): throw .unavailable(reason)
            case .available: throw .unavailable(notImplemented)
            }
        })

    static let notImplemented = "the TIPC transport is not implemented yet in this build"

    static func availability(kernel: TIPCKernelSupport) -> TransportAvailability {
        switch kernel {
        case .missing(let reason): return .unavailable(reason: reason)
        case .present:
            return isImplemented
                ? .available
                : .unavailable(reason: "the kernel supports TIPC, but \(notImplemented)")
        }
    }
}
