internal import CWeftVerbs

#if canImport(Glibc)
    import Glibc
#endif

/// The RDMA devices this host offers.
public enum VerbsDevices: Sendable, Equatable {
    /// Device names as the kernel knows them (`mlx5_0`, `rxe0`).
    case found([String])
    /// One sentence: why there is none and what to do about it.
    case none(String)
}

/// Asks libibverbs, for real, which RDMA devices exist.
public enum VerbsProbe {
    private static let advice = "load rdma_rxe for Soft-RoCE or use the kernel lab"

    /// corresponding C function: `ibv_get_device_list` (and `ibv_free_device_list`).
    public static func devices() -> VerbsDevices {
        var count: Int32 = 0
        errno = 0
        guard let list = ibv_get_device_list(&count) else {
            let code = errno
            let message = code == 0 ? "no error reported" : String(cString: strerror(code))
            return .none("no RDMA devices (ibv_get_device_list: \(message)); \(advice)")
        }
        defer { ibv_free_device_list(list) }
        var names: [String] = []
        for index in 0..<Int(count) {
            guard let device = list[index] else { break }
            names.append(ibv_get_device_name(device).map { String(cString: $0) } ?? "device \(index)")
        }
        if names.isEmpty { return .none("no RDMA devices (ibv_get_device_list found none); \(advice)") }
        return .found(names)
    }
}
