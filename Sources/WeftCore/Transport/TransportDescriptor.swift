/// Whether a transport can run on this machine, and if not, why (one sentence).
public enum TransportAvailability: Sendable, Equatable {
    case available
    case unavailable(reason: String)

    public var isAvailable: Bool { self == .available }
    public var reason: String? {
        if case .unavailable(let reason) = self { return reason }
        return nil
    }
}

/// How the registry knows a transport: its name, a probe, and a factory.
public struct TransportDescriptor: Sendable {
    public let name: String
    public let summary: String
    /// Asks the machine (a socket, a device list), cheaply; never pretends.
    public let probe: @Sendable () -> TransportAvailability
    public let make: @Sendable (TransportContext, WeftConfiguration) throws(TransportError) -> any Transport
    /// The device an instance will use, for NUMA placement: asked before the IO threads
    /// start, with the address the process will listen at or connect to (nil: none known
    /// yet). The planner puts the IO threads on the CPUs of that device's node and the
    /// buffers (`NodeLocalMemory`) on that node; nil means "no device known", and the
    /// threads follow the process's CPUs or `numa-node`.
    ///
    /// Cheap and side-effect free (it may resolve a name; it must not open the device).
    /// A network transport returns `.networkInterface` (a TIPC bearer), `.rdmaDevice`
    /// (verbs, from the configured device or the one rdma_cm resolves the address to),
    /// `.ipAddress` or `.defaultRoute` (TCP); a host-only transport returns `.hostMemory`.
    public let device: @Sendable (_ address: String?, _ configuration: WeftConfiguration) -> DeviceLocation?
    /// Why this configuration may not use the transport (its security rule, in one sentence),
    /// or nil when it may. `auto` skips a transport whose rule is not met (TIPC without a
    /// cluster secret), and `weft info` says why.
    public let unmetRequirement: @Sendable (_ configuration: WeftConfiguration) -> String?

    public init(
        name: String, summary: String, probe: @escaping @Sendable () -> TransportAvailability,
        make: @escaping @Sendable (TransportContext, WeftConfiguration) throws(TransportError) -> any Transport,
        device: @escaping @Sendable (_ address: String?, _ configuration: WeftConfiguration) -> DeviceLocation? = {
            _, _ in nil
        },
        unmetRequirement: @escaping @Sendable (_ configuration: WeftConfiguration) -> String? = { _ in nil }
    ) {
        self.name = name
        self.summary = summary
        self.probe = probe
        self.make = make
        self.device = device
        self.unmetRequirement = unmetRequirement
    }
}
