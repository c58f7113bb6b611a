import WeftCore

/// Builds a `NUMATopology` from a sysfs tree: /sys on this machine, or a recorded copy.
///
/// - Nodes: `devices/system/node/nodeN/{cpulist,meminfo,distance}`. No `node` folder means
///   a kernel without NUMA: no nodes.
/// - A network interface's node: `class/net/IF/device/numa_node`. For a virtio NIC `device`
///   is the virtio device, which has no `numa_node`: the reader walks up the resolved path
///   to the PCI function that has one. `-1` or no file up to `devices/` means unknown.
/// - An RDMA device's node: the same walk from `class/infiniband/DEV/device`; a device with
///   no `device` link (Soft-RoCE, `rxe`) takes the node of its network interface, named by
///   its `parent` file (or `ports/1/gid_attrs/ndevs/0`).
/// - Interfaces without a `device` link (`lo`, bridges, veth) are not devices here.
public struct TopologyReader: Sendable {
    let tree: SysfsTree

    /// `sysfsRoot`: `/sys`, or a recorded tree in tests.
    public init(sysfsRoot: String = "/sys") { tree = SysfsTree(root: sysfsRoot) }

    public func read() -> NUMATopology {
        NUMATopology(nodes: readNodes(), devices: readNetworkDevices() + readRDMADevices())
    }

    func readNodes() -> [NUMANode] {
        let folder = "devices/system/node"
        let ids = tree.list(folder).compactMap { name -> Int? in
            guard name.hasPrefix("node") else { return nil }
            return Int(name.dropFirst(4))
        }
        return ids.sorted().map { id in
            let base = "\(folder)/node\(id)"
            let cpus = tree.read("\(base)/cpulist").flatMap { CPUList.parse($0) } ?? []
            let distances = (tree.read("\(base)/distance") ?? "").split(separator: " ").compactMap { Int($0) }
            return NUMANode(id: id, cpus: cpus, memoryBytes: memoryBytes(tree.read("\(base)/meminfo")), distances: distances)
        }
    }

    /// `Node 0 MemTotal:  1021388 kB` → bytes.
    func memoryBytes(_ meminfo: String?) -> Int? {
        guard let meminfo else { return nil }
        for line in meminfo.split(separator: "\n") where line.contains("MemTotal:") {
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "MemTotal:"), index + 1 < words.count,
                let kilobytes = Int(words[index + 1])
            else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    func readNetworkDevices() -> [NUMADevice] {
        tree.list("class/net").compactMap { name in
            guard tree.exists("class/net/\(name)/device") else { return nil }
            return NUMADevice(name: name, kind: .net, node: nodeOfDevice("class/net/\(name)/device"))
        }
    }

    func readRDMADevices() -> [NUMADevice] {
        tree.list("class/infiniband").map { name in
            let base = "class/infiniband/\(name)"
            let netdev = tree.read("\(base)/parent") ?? tree.read("\(base)/ports/1/gid_attrs/ndevs/0")
            var node: Int?
            if tree.exists("\(base)/device") {
                node = nodeOfDevice("\(base)/device")
            } else if let netdev, tree.exists("class/net/\(netdev)/device") {
                node = nodeOfDevice("class/net/\(netdev)/device")
            }
            return NUMADevice(name: name, kind: .rdma, node: node, netdev: netdev)
        }
    }

    /// The `numa_node` of the device at `link`, or of the nearest folder above it that has
    /// one (the PCI function above a virtio device); nil for -1 or none.
    func nodeOfDevice(_ link: String) -> Int? {
        guard var folder = tree.resolve(link) else { return nil }
        while folder.hasPrefix("devices/") {
            if let text = tree.read("\(folder)/numa_node") {
                guard let node = Int(text), node >= 0 else { return nil }
                return node
            }
            guard let slash = folder.lastIndex(of: "/") else { return nil }
            folder = String(folder[..<slash])
        }
        return nil
    }
}
