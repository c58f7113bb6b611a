/// Addresses that are plain names (`shm`, `local`): `SCHEME:NAME` or `NAME`, at most 100
/// bytes of letters, digits, `-`, `_` and `.`.
public enum EndpointName {
    public static func parse(_ address: String, scheme: String, extraPrefix: String? = nil) throws(TransportError) -> String {
        var name = Substring(address)
        if name.hasPrefix(scheme + ":") { name = name.dropFirst(scheme.count + 1) }
        if let extraPrefix, name.hasPrefix(extraPrefix) { name = name.dropFirst(extraPrefix.count) }
        guard !name.isEmpty, name.utf8.count <= 100,
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        else {
            throw .badAddress(
                "\(scheme) address '\(address)' must be a name of letters, digits, '-', '_' or '.' (up to 100)")
        }
        return String(name)
    }
}
