import WeftNUMA

/// Recorded sysfs trees under Tests/NUMASnapshots (see its README.md), read as the live
/// reader reads /sys. They live outside the test target's folder: their `device` links
/// make cycles that a source scan must not walk.
enum Snapshot: String, CaseIterable {
    case laptop
    case oneSocketServer = "one-socket-server"
    case twoSocketNICNode1 = "two-socket-nic-node1"
    case labNUMA2 = "lab-numa2"
    case noNUMA = "no-numa"

    var sysfsRoot: String {
        let file = #filePath
        let target = file[..<file.lastIndex(of: "/")!]
        let tests = target[..<target.lastIndex(of: "/")!]
        return "\(tests)/NUMASnapshots/\(rawValue)/sys"
    }

    var topology: NUMATopology { TopologyReader(sysfsRoot: sysfsRoot).read() }
}
