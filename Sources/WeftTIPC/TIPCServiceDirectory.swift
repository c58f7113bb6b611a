import WeftCore

/// Asks the node's topology server who publishes a service name now (set-up path).
enum TIPCServiceDirectory {
    /// The sockets that publish `address` anywhere in the cluster, as this node's name
    /// table knows them now. Corresponding C calls: a topology subscription with a short
    /// time-out, whose existing publications arrive before the time-out event.
    static func publishers(of address: TIPCServiceAddress) throws(SystemError) -> [TIPCPort] {
        let fd = try TIPCSyscalls.openTopology(nonBlocking: true)
        defer { TIPCSyscalls.close(fd) }
        try TIPCSyscalls.subscribe(
            fd, type: address.type, lower: address.instance, upper: address.instance, perPort: true,
            timeoutMilliseconds: 1)
        var ports: [TIPCPort] = []
        let deadline = TIPCClock.now + 2_000_000_000
        while true {
            guard let event = try TIPCSyscalls.readEvent(fd) else {
                guard try TIPCSyscalls.wait(fd, for: TIPCSyscalls.pollIn, until: deadline) else { return ports }
                continue
            }
            switch event.kind {
            case .published: ports.append(event.port)
            case .withdrawn: ports.removeAll { $0 == event.port }
            case .timedOut: return ports
            }
        }
    }
}
