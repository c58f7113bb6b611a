import WeftCore
import WeftSharedMemory
import WeftTCP
import WeftTIPC
import WeftVerbs

/// The one place that lists every transport this build carries, and turns a name from
/// the configuration (`--transport`, `WEFT_TRANSPORT`) into a transport.
///
/// Adding a transport: write its module (with a `descriptor`), then add one line to
/// `builtIn` below, and its name to `autoPreference` if `auto` may pick it.
public struct TransportRegistry: Sendable {
    /// Every transport of this build, in the order `weft info` shows them.
    public let descriptors: [TransportDescriptor]
    /// The order in which `auto` tries transports: the first available one wins.
    public let autoPreference: [String]

    public init(_ descriptors: [TransportDescriptor], autoPreference: [String]) {
        self.descriptors = descriptors
        self.autoPreference = autoPreference
    }

    /// The transports built into Weft.
    ///
    /// `auto` picks the first available of verbs, tipc, shm, tcp: the fastest medium that
    /// this host can use at all. Picking shm only when the peer is on this host (and a
    /// network transport otherwise) needs the peer's address and is a later refinement.
    public static let builtIn = TransportRegistry(
        [
            SharedMemoryTransportModule.descriptor,
            TCPTransportModule.descriptor,
            TIPCTransportModule.descriptor,
            VerbsTransportModule.descriptor,
        ],
        autoPreference: ["verbs", "tipc", "shm", "tcp"])

    /// The name that asks the registry to choose.
    public static let automatic = "auto"

    /// Names of every built-in transport, available here or not.
    public var names: [String] { descriptors.map(\.name) }

    public func descriptor(named name: String) -> TransportDescriptor? {
        let wanted = name.lowercased()
        return descriptors.first { $0.name == wanted }
    }

    /// Probes every transport once: whether it can run here, and if not why.
    public func availability() -> [(descriptor: TransportDescriptor, availability: TransportAvailability)] {
        descriptors.map { ($0, $0.probe()) }
    }

    /// Names of the transports that can run on this machine now.
    public func availableNames() -> [String] {
        availability().filter { $0.availability.isAvailable }.map { $0.descriptor.name }
    }

    /// The transport `name` stands for, if it can run here.
    ///
    /// - `auto`: the first available transport in `autoPreference`.
    /// - A name this build lacks: `ConfigurationError.unknownTransport`.
    /// - A transport that cannot run here: `ConfigurationError.transportUnavailable`, whose
    ///   one sentence gives the probe's reason and the transports that are available.
    ///
    /// With a `configuration`, `auto` also skips a transport whose security rule it does not
    /// meet (`TransportDescriptor.unmetRequirement`: TIPC without a cluster secret).
    public func resolve(
        name: String, configuration: WeftConfiguration? = nil
    ) throws(ConfigurationError) -> TransportDescriptor {
        let wanted = name.lowercased()
        let probed = availability()
        let available = probed.filter { $0.availability.isAvailable }.map { $0.descriptor.name }
        if wanted == Self.automatic {
            for preferred in autoPreference where available.contains(preferred) {
                guard let descriptor = descriptor(named: preferred) else { continue }
                if let configuration, descriptor.unmetRequirement(configuration) != nil { continue }
                return descriptor
            }
            throw .transportUnavailable(
                name: Self.automatic, reason: "no transport of this build can run on this machine",
                available: [])
        }
        guard let entry = probed.first(where: { $0.descriptor.name == wanted }) else {
            throw .unknownTransport(name, available: names)
        }
        if case .unavailable(let reason) = entry.availability {
            throw .transportUnavailable(name: wanted, reason: reason, available: available)
        }
        return entry.descriptor
    }

    /// Resolves `configuration.transport` and makes the transport.
    /// Throws `ConfigurationError` (name or availability) or `TransportError` (setup).
    public func makeTransport(
        configuration: WeftConfiguration, context: TransportContext
    ) throws -> any Transport {
        let descriptor = try resolve(name: configuration.transport, configuration: configuration)
        return try descriptor.make(context, configuration)
    }
}
