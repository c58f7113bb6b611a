import Testing
import WeftCore

@testable import WeftTIPC

@Suite struct TIPCBearerTests {
    @Test func ethernetAndInfiniBandBearersNameTheirInterface() {
        let bearers = TIPCBearer.parse("eth:eth1\t\nib:ib0\t\n")
        #expect(bearers == [TIPCBearer(name: "eth:eth1"), TIPCBearer(name: "ib:ib0")])
        #expect(bearers.map(\.device) == [.networkInterface("eth1"), .networkInterface("ib0")])
    }

    @Test func udpBearerFollowsItsLocalAddress() {
        let bearers = TIPCBearer.parse("udp:fabric\t10.1.2.3\n")
        #expect(bearers.map(\.device) == [.ipAddress("10.1.2.3")])
        #expect(TIPCBearer.placementDevice(among: bearers) == .ipAddress("10.1.2.3"))
    }

    @Test func firstBearerWithADeviceWins() {
        let bearers = TIPCBearer.parse("udp:nameless\t\neth:eth0\t\neth:eth1\t\n")
        #expect(TIPCBearer.placementDevice(among: bearers) == .networkInterface("eth0"))
    }

    @Test func noBearerMeansNoDevice() {
        #expect(TIPCBearer.placementDevice(among: TIPCBearer.parse("")) == nil)
    }
}
