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

    public init(
        name: String, summary: String, probe: @escaping @Sendable () -> TransportAvailability,
        make: @escaping @Sendable (TransportContext, WeftConfiguration) throws(TransportError) -> any Transport
    ) {
        self.name = name
        self.summary = summary
        self.probe = probe
        self.make = make
    }
}
