import WeftCore

/// A TIPC service address, written `TYPE:INSTANCE` in decimal (`18888:7`).
///
/// Service addresses name a service, not a machine: the kernel finds the node that
/// published the name, so connecting needs no IP address or port. `INSTANCE` alone takes
/// the configured `tipc.service-type`; `*` (or `TYPE:*`) asks a listener for a free instance.
public struct TIPCServiceAddress: Hashable, Sendable, CustomStringConvertible {
    public var type: UInt32
    public var instance: UInt32

    public init(type: UInt32, instance: UInt32) {
        self.type = type
        self.instance = instance
    }

    public var description: String { "\(type):\(instance)" }

    /// Types below 64 are reserved for TIPC itself (the topology server is type 1).
    static let firstUserType: UInt32 = 64
}

/// What a listen or connect address asks for.
struct TIPCEndpoint: Sendable, Equatable {
    var type: UInt32
    /// nil: any free instance (listeners only).
    var instance: UInt32?

    init(type: UInt32, instance: UInt32?) {
        self.type = type
        self.instance = instance
    }

    init(parsing text: String, defaultType: UInt32) throws(TransportError) {
        let trimmed = text.hasPrefix("tipc:") ? String(text.dropFirst(5)) : text
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        let typeText: Substring?
        let instanceText: Substring
        switch parts.count {
        case 1: (typeText, instanceText) = (nil, parts[0])
        case 2: (typeText, instanceText) = (parts[0], parts[1])
        default: throw Self.malformed(text)
        }
        var type = defaultType
        if let typeText {
            guard let parsed = UInt32(typeText) else { throw Self.malformed(text) }
            type = parsed
        }
        guard type >= TIPCServiceAddress.firstUserType else {
            throw .badAddress("TIPC service type \(type) in '\(text)' is reserved (types below 64 belong to TIPC itself)")
        }
        self.type = type
        if instanceText == "*" || instanceText.isEmpty {
            instance = nil
        } else {
            guard let parsed = UInt32(instanceText) else { throw Self.malformed(text) }
            instance = parsed
        }
    }

    static func malformed(_ text: String) -> TransportError {
        .badAddress(
            "'\(text)' is not a TIPC service address: write TYPE:INSTANCE in decimal (for example 18888:7), or * for a free instance when listening"
        )
    }
}
