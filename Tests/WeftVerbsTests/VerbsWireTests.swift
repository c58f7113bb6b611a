import Testing
import WeftCore

@testable import WeftVerbs

/// Pins the rdma_cm private data of docs/protocol.md byte by byte, and the address forms.
struct VerbsWireTests {
    @Test func privateDataOffsetsMatchTheSpecification() {
        let data = VerbsPrivateData(receiveCredits: 0x0102_0304, bufferBytes: 0x0A0B_0C0D, rendezvousBytes: 0x0040_0020)
        let bytes = data.encoded()
        #expect(bytes.count == 24)
        #expect(Array(bytes[0..<4]) == Array("WEFT".utf8))
        #expect(bytes[4] == 1)
        #expect(Array(bytes[5..<8]) == [0, 0, 0])
        #expect(Array(bytes[8..<12]) == [0x04, 0x03, 0x02, 0x01])
        #expect(Array(bytes[12..<16]) == [0x0D, 0x0C, 0x0B, 0x0A])
        #expect(Array(bytes[16..<20]) == [0x20, 0x00, 0x40, 0x00])
        #expect(Array(bytes[20..<24]) == [0, 0, 0, 0])
        #expect(VerbsPrivateData.decode(bytes) == data)
    }

    @Test func privateDataOfAnotherProgramIsRefused() {
        var bytes = VerbsPrivateData(receiveCredits: 64, bufferBytes: 8192, rendezvousBytes: 0).encoded()
        #expect(VerbsPrivateData.decode(Array(bytes[0..<23])) == nil)
        var reserved = bytes
        reserved[20] = 1
        #expect(VerbsPrivateData.decode(reserved) == nil)
        var tinyRegion = bytes
        tinyRegion[16] = 8
        #expect(VerbsPrivateData.decode(tinyRegion) == nil)
        bytes[0] = 0x57  // 'W' where 'W' was: unchanged, still valid
        #expect(VerbsPrivateData.decode(bytes) != nil)
        bytes[1] = 0
        #expect(VerbsPrivateData.decode(bytes) == nil)
        var zeroCredits = VerbsPrivateData(receiveCredits: 0, bufferBytes: 8192, rendezvousBytes: 0).encoded()
        #expect(VerbsPrivateData.decode(zeroCredits) == nil)
        zeroCredits[4] = 2
        #expect(VerbsPrivateData.decode(zeroCredits) == nil)
    }

    @Test func endpointsAreIPColonPort() throws {
        #expect(try VerbsEndpoint(parsing: "192.168.100.1:7471") == VerbsEndpoint(host: "192.168.100.1", port: 7471))
        #expect(try VerbsEndpoint(parsing: "[fe80::1]:0").host == "fe80::1")
        #expect(try VerbsEndpoint(parsing: "[fe80::1]:9").description == "[fe80::1]:9")
        #expect(throws: TransportError.self) { try VerbsEndpoint(parsing: "192.168.100.1") }
        #expect(throws: TransportError.self) { try VerbsEndpoint(parsing: ":7471") }
        #expect(throws: TransportError.self) { try VerbsEndpoint(parsing: "host:port") }
    }

    @Test func anIPv4MappedGIDGivesTheInterfaceAddress() {
        let gid = VerbsDeviceReport.format(gid: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 168, 100, 1])
        #expect(gid == "0000:0000:0000:0000:0000:ffff:c0a8:6401")
        #expect(VerbsInterfaceAddress.ipv4(fromGID: gid) == "192.168.100.1")
        #expect(VerbsInterfaceAddress.ipv4(fromGID: "fe80:0000:0000:0000:5054:00ff:fe00:0001") == nil)
    }

    @Test func theMemlockSentenceSaysWhatToSet() {
        let error = VerbsErrors.memoryRegistration(
            bytes: 2 << 20, device: "rxe0", error: SystemError("ibv_reg_mr", errno: 12))
        let text = error.description
        #expect(text.contains("locked-memory limit (RLIMIT_MEMLOCK"))
        #expect(text.contains("ulimit -l unlimited"))
        #expect(text.contains("LimitMEMLOCK=infinity"))
        #expect(text.contains("Slurm"))
    }

    /// On a host without RDMA devices the probe and `make` both say why, in one sentence;
    /// on a host with them the probe says available.
    @Test func theProbeSaysWhyVerbsCannotRun() {
        let availability = VerbsTransportModule.descriptor.probe()
        switch VerbsProbe.devices() {
        case .none(let reason):
            #expect(availability == .unavailable(reason: reason))
            #expect(reason.contains("RDMA"))
        case .found:
            #expect(availability == .available)
        }
    }
}
