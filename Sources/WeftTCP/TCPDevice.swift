import WeftCore

extension TCPTransportModule {
    /// The device TCP moves bytes through at `address`, for NUMA placement
    /// (`TransportDescriptor.device`): the interface holding the listen address or routing
    /// the connect address. Every interface (`0.0.0.0`, `[::]`) or no address yet means the
    /// default route's interface. A name is resolved as `connect` would resolve it.
    static func device(for address: String?) -> DeviceLocation? {
        guard let address, let endpoint = try? TCPEndpoint(parsing: address) else { return .defaultRoute }
        if endpoint.host == "0.0.0.0" || endpoint.host == "::" { return .defaultRoute }
        guard let resolved = try? TCPSocket.resolve(endpoint, passive: false).first, let numeric = resolved.numeric
        else { return nil }
        return .ipAddress(numeric.host)
    }
}
