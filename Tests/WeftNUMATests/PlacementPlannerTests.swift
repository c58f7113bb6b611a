import Testing
import WeftCore
import WeftNUMA

@Suite struct PlacementPlannerTests {
    private func plan(
        _ snapshot: Snapshot, allowed: [Int], transport: String = "tcp", threads: Int = 1, ioCPUs: [Int] = [],
        numaNode: NUMANodeSetting = .automatic, appCPUs: [Int] = [], device: (String, NUMADevice.Kind)? = nil,
        location: DeviceLocation? = nil
    ) throws(PlacementError) -> PlacementPlan {
        let topology = snapshot.topology
        let found = device.flatMap { topology.device(named: $0.0, kind: $0.1) }
        let request = PlacementRequest(
            transport: transport, threadCount: threads, ioCPUs: ioCPUs, numaNode: numaNode, appCPUs: appCPUs,
            location: location ?? device.map { .networkInterface($0.0) }, device: found)
        return try PlacementPlanner.plan(topology: topology, allowedCPUs: allowed, request: request)
    }

    // MARK: auto

    @Test func twoSocketNodeFollowsTheNICToNode1() throws {
        let result = try plan(.twoSocketNICNode1, allowed: Array(0...95), threads: 2, device: ("ens5f0", .net))
        #expect(result.node == 1)
        #expect(result.threadCPUs == [[Int]](repeating: Array(24...47) + Array(72...95), count: 2))
        #expect(result.reason.contains("ens5f0"))
    }

    @Test func rdmaDeviceOnNode1PlacesVerbsThere() throws {
        let result = try plan(.twoSocketNICNode1, allowed: Array(0...95), transport: "verbs", device: ("mlx5_0", .rdma))
        #expect(result.node == 1)
        #expect(result.ioCPUs.first == 24)
    }

    @Test func labGuestPutsTCPOnCPU1() throws {
        let result = try plan(.labNUMA2, allowed: [0, 1], device: ("eth0", .net))
        #expect(result.node == 1)
        #expect(result.threadCPUs == [[1]])
    }

    @Test func cpusetWithoutTheNICsNodeStaysOnItsOwnCPUsAndNode() throws {
        // A Slurm job given the first socket only.
        let result = try plan(.twoSocketNICNode1, allowed: Array(0...23), device: ("ens5f0", .net))
        #expect(result.node == 0)
        #expect(result.threadCPUs == [Array(0...23)])
        #expect(result.reason.contains("outside this process's cpuset"))
    }

    @Test func appCPUsAreLeftToTheApplication() throws {
        let result = try plan(
            .twoSocketNICNode1, allowed: Array(0...95), appCPUs: Array(24...47), device: ("ens5f0", .net))
        #expect(result.threadCPUs == [Array(72...95)])
        #expect(result.node == 1)
    }

    @Test func sharedMemoryFollowsTheProcessCPUs() throws {
        let whole = try plan(.twoSocketNICNode1, allowed: Array(0...95), transport: "shm", location: .hostMemory)
        #expect(whole.node == nil)
        #expect(whole.ioCPUs.isEmpty)
        let job = try plan(.twoSocketNICNode1, allowed: Array(30...35), transport: "shm", location: .hostMemory)
        #expect(job.node == 1)
        #expect(job.threadCPUs == [Array(30...35)])
    }

    @Test func deviceOfUnknownNodeFallsBackToTheProcessCPUs() throws {
        let result = try plan(.twoSocketNICNode1, allowed: Array(0...95), location: .networkInterface("lo"))
        #expect(result.node == nil)
        #expect(result.reason.contains("no device found"))
    }

    @Test func laptopHasNothingToPlace() throws {
        let result = try plan(.laptop, allowed: Array(0...7), device: ("wlp2s0", .net))
        #expect(result.node == nil)
        #expect(result.ioCPUs.isEmpty)
        #expect(result.reason.contains("one NUMA node"))
    }

    @Test func laptopStillKeepsIOThreadsOffTheAppCPUs() throws {
        let result = try plan(.laptop, allowed: Array(0...7), appCPUs: Array(0...5))
        #expect(result.threadCPUs == [[6, 7]])
        #expect(result.node == nil)
    }

    @Test func oneSocketServerHasNothingToPlace() throws {
        let result = try plan(.oneSocketServer, allowed: Array(0...15), device: ("eno1", .net))
        #expect(result.node == nil)
        #expect(result.ioCPUs.isEmpty)
    }

    @Test func kernelWithoutNUMASaysSo() throws {
        let result = try plan(.noNUMA, allowed: [0, 1], device: ("eth0", .net))
        #expect(result.node == nil)
        #expect(result.reason.contains("no NUMA nodes"))
    }

    // MARK: io-cpus and numa-node

    @Test func ioCPUsWinOverTheDeviceAndPlaceBuffersOnTheirNode() throws {
        let result = try plan(.twoSocketNICNode1, allowed: Array(0...95), threads: 3, ioCPUs: [2, 3], device: ("ens5f0", .net))
        #expect(result.threadCPUs == [[2], [3], []])
        #expect(result.node == 0)
    }

    @Test func ioCPUsWithNUMANodeSplitThreadsAndBuffers() throws {
        // The wrong-node experiment of docs/numa.md: thread on node 0, buffers on node 1.
        let result = try plan(.labNUMA2, allowed: [0, 1], ioCPUs: [0], numaNode: .node(1))
        #expect(result.threadCPUs == [[0]])
        #expect(result.node == 1)
    }

    @Test func numaNodeOverridesTheDevice() throws {
        let result = try plan(.twoSocketNICNode1, allowed: Array(0...95), numaNode: .node(0), device: ("ens5f0", .net))
        #expect(result.node == 0)
        #expect(result.threadCPUs == [Array(0...23) + Array(48...71)])
    }

    @Test func numaNodeOffPinsNothing() throws {
        let result = try plan(.twoSocketNICNode1, allowed: Array(0...95), numaNode: .off, device: ("ens5f0", .net))
        #expect(result.node == nil)
        #expect(result.ioCPUs.isEmpty)
    }

    // MARK: errors, one sentence each

    @Test func ioCPUOutsideTheCpusetIsAnError() {
        #expect(throws: PlacementError.cpuNotAllowed(cpu: 1, allowed: [0])) {
            try plan(.labNUMA2, allowed: [0], ioCPUs: [1])
        }
        #expect(
            PlacementError.cpuNotAllowed(cpu: 1, allowed: [0]).description
                == "CPU 1 is not in this process's cpuset, which allows CPUs 0 (set by taskset, a cgroup or Slurm); pick io-cpus from those."
        )
    }

    @Test func nodeThatDoesNotExistIsAnError() {
        #expect(throws: PlacementError.unknownNode(7, known: [0, 1])) {
            try plan(.twoSocketNICNode1, allowed: Array(0...95), numaNode: .node(7))
        }
    }

    @Test func nodeOutsideTheCpusetIsAnError() {
        #expect(throws: PlacementError.nodeNotAllowed(node: 1, nodeCPUs: [1], allowed: [0])) {
            try plan(.labNUMA2, allowed: [0], numaNode: .node(1))
        }
    }

    @Test func nodeOnAKernelWithoutNUMAIsAnError() {
        #expect(throws: PlacementError.noNUMA(node: 0)) { try plan(.noNUMA, allowed: [0, 1], numaNode: .node(0)) }
    }

    @Test func numaNodeSettingParses() {
        #expect(NUMANodeSetting(parsing: "auto") == .automatic)
        #expect(NUMANodeSetting(parsing: "off") == .off)
        #expect(NUMANodeSetting(parsing: "1") == .node(1))
        #expect(NUMANodeSetting(parsing: "-1") == nil)
        #expect(NUMANodeSetting(parsing: "near") == nil)
    }

    @Test func cpuListsRoundTrip() {
        #expect(CPUList.parse("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11])
        #expect(CPUList.format([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
        #expect(CPUList.parse("") == [])
        #expect(CPUList.parse("3-1") == nil)
    }
}
