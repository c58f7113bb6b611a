import Testing
import WeftNUMA

@Suite struct TopologyReaderTests {
    @Test func laptopHasOneNodeAndAWiFiCardOfUnknownNode() {
        let topology = Snapshot.laptop.topology
        #expect(topology.nodes.map(\.id) == [0])
        #expect(topology.nodes[0].cpus == Array(0...7))
        #expect(topology.nodes[0].memoryBytes == 16_303_948 * 1024)
        // numa_node -1 is unknown, never node 0; lo has no device and is not listed.
        #expect(topology.devices == [NUMADevice(name: "wlp2s0", kind: .net, node: nil)])
    }

    @Test func oneSocketServerHasItsNICAndHCAOnNode0() {
        let topology = Snapshot.oneSocketServer.topology
        #expect(topology.nodes.map(\.id) == [0])
        #expect(topology.device(named: "eno1", kind: .net)?.node == 0)
        #expect(topology.device(named: "mlx5_0", kind: .rdma)?.node == 0)
        #expect(topology.device(named: "docker0", kind: .net) == nil)
    }

    @Test func twoSocketNodeHasItsFastDevicesOnNode1() {
        let topology = Snapshot.twoSocketNICNode1.topology
        #expect(topology.nodes.map(\.id) == [0, 1])
        #expect(topology.nodes[1].cpus == Array(24...47) + Array(72...95))
        #expect(topology.nodes[0].distances == [10, 21])
        #expect(topology.device(named: "eno1", kind: .net)?.node == 0)
        #expect(topology.device(named: "ens5f0", kind: .net)?.node == 1)
        #expect(topology.device(named: "ib0", kind: .net)?.node == 1)
        #expect(topology.device(named: "mlx5_0", kind: .rdma)?.node == 1)
    }

    @Test func labGuestVirtioNICIsFoundOnNode1ByWalkingUpToItsPCIFunction() {
        let topology = Snapshot.labNUMA2.topology
        #expect(topology.nodes.map(\.cpus) == [[0], [1]])
        #expect(topology.device(named: "eth0", kind: .net)?.node == 1)
        // Soft-RoCE has no device link: it takes its netdev's node.
        #expect(topology.device(named: "rxe0", kind: .rdma) == NUMADevice(name: "rxe0", kind: .rdma, node: 1, netdev: "eth0"))
    }

    @Test func kernelWithoutNUMAHasNoNodes() {
        let topology = Snapshot.noNUMA.topology
        #expect(topology.nodes.isEmpty)
        #expect(topology.devices == [NUMADevice(name: "eth0", kind: .net, node: nil)])
    }
}
