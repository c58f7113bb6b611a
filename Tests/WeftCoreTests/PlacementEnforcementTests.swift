import Testing
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// IO threads are pinned before they run anything, and a CPU the cpuset forbids is an
/// error from the runtime's creation; node-local memory lands on the node asked for.
@Suite struct PlacementEnforcementTests {
    @Test func ioThreadRunsOnlyOnItsCPU() throws {
        let allowed = try ThreadAffinity.current()
        let cpu = try #require(allowed.last)
        let runtime = try IORuntime(progress: .sleep, placement: IOThreadPlacement(cpus: [cpu]), name: "pin-test")
        defer { runtime.shutdown() }
        let seen = try runtime.threads[0].submitAndWait { () throws(SystemError) in try ThreadAffinity.current() }
        #expect(seen == [cpu])
    }

    @Test func threadGetsTheWholeSetItIsPlacedOn() throws {
        let allowed = try ThreadAffinity.current()
        let runtime = try IORuntime(
            threadCount: 2, progress: .sleep, placement: IOThreadPlacement(threadCPUs: [allowed, allowed]), name: "set-test")
        defer { runtime.shutdown() }
        for thread in runtime.threads {
            #expect(try thread.submitAndWait { () throws(SystemError) in try ThreadAffinity.current() } == allowed)
        }
    }

    @Test func cpuOutsideTheCpusetFailsTheRuntimeInOneSentence() throws {
        let allowed = try ThreadAffinity.current()
        let outside = (allowed.max() ?? 0) + 1
        #expect(throws: PlacementError.cpuNotAllowed(cpu: outside, allowed: allowed)) {
            _ = try IORuntime(progress: .sleep, placement: IOThreadPlacement(cpus: [outside]), name: "bad-pin")
        }
        let sentence = PlacementError.cpuNotAllowed(cpu: outside, allowed: allowed).description
        #expect(
            sentence.hasPrefix("CPU \(outside) is not in this process's cpuset, which allows CPUs \(CPUList.format(allowed))"))
    }

    @Test func threadRefusedByTheKernelThrowsFromItsCreation() {
        // CPU 8191 passes the shim's bounds but no machine here has it: the kernel says EINVAL.
        #expect {
            _ = try IOThread(name: "refused", progress: .sleep, affinity: [8191])
        } throws: { error in
            guard case .pinningFailed(let thread, let cpus, _, let cause) = error as? PlacementError else { return false }
            return thread == "refused" && cpus == [8191] && cause.call == "sched_setaffinity"
        }
    }

    @Test func nodeLocalMemoryLandsOnTheNodeAskedFor() {
        // Node 0 exists on every Linux machine with NUMA support (this host has one node).
        let bytes = 1 << 20
        let base = NodeLocalMemory.allocate(byteCount: bytes, node: 0, label: "test")
        defer { NodeLocalMemory.deallocate(base, byteCount: bytes) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        #expect(NodeLocalMemory.pagesByNode(base, byteCount: bytes) == [0: bytes / page])
        #expect(Int(bitPattern: base) % page == 0)
    }

    @Test func memoryWithoutANodeIsUsableAndZeroed() {
        let bytes = 64 << 10
        let base = NodeLocalMemory.allocate(byteCount: bytes, node: nil, label: "test")
        defer { NodeLocalMemory.deallocate(base, byteCount: bytes) }
        #expect(base.load(fromByteOffset: bytes - 8, as: UInt64.self) == 0)
        base.storeBytes(of: 7, toByteOffset: bytes - 8, as: UInt64.self)
        #expect(base.load(fromByteOffset: bytes - 8, as: UInt64.self) == 7)
    }
}
