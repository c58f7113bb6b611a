import WeftCore

/// Linux TIPC (AF_TIPC sockets, no libtipc): how the registry knows it.
///
/// The probe asks the kernel for real (`socket(AF_TIPC, SOCK_RDM, 0)`); on a kernel
/// without TIPC both the probe and `make` give its sentence.
public enum TIPCTransportModule {
    public static let name = "tipc"

    public static let descriptor = TransportDescriptor(
        name: name,
        summary:
            "Linux TIPC: service-addressed connections between cluster nodes (AF_TIPC sockets), authenticated with a cluster secret",
        probe: { availability(kernel: TIPCProbe.kernelSupport()) },
        make: { context, configuration throws(TransportError) -> any Transport in
            if case .unavailable(let reason) = availability(kernel: TIPCProbe.kernelSupport()) {
                throw .unavailable(reason)
            }
            var context = context
            if context.secret == nil, let path = configuration.secretFile {
                do throws(ConfigurationError) {
                    context.secret = try ClusterSecret.load(path: path)
                } catch {
                    throw .unavailable(error.description)
                }
            }
            return TIPCTransport(context: context, configuration: TIPCConfiguration(configuration))
        },
        // TIPC traffic leaves through the node's bearers, whatever the service address.
        device: { _, _ in TIPCBearer.placementDevice(among: TIPCSyscalls.bearers()) },
        unmetRequirement: { configuration in
            configuration.secretFile == nil && !configuration.allowUnauthenticatedPeers
                ? "no cluster secret (TIPC needs --secret-file, or allow-unauthenticated-peers=true)" : nil
        })

    static func availability(kernel: TIPCKernelSupport) -> TransportAvailability {
        switch kernel {
        case .missing(let reason): return .unavailable(reason: reason)
        case .present: return .available
        }
    }

    /// The one sentence for listening without a cluster secret.
    static let secretRequired = TransportError.unavailable(
        "refusing to listen on TIPC without a cluster secret, because TIPC carries no credentials and any process on any node of the cluster could connect:"
            + " give every node the same secret file with --secret-file FILE or WEFT_SECRET_FILE=FILE (at least 16 random bytes, chmod 600),"
            + " or set allow-unauthenticated-peers=true (unsafe)")
}
