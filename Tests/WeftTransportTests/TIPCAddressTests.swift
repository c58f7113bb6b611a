import Testing
import WeftCore

@testable import WeftTIPC

/// TIPC service addresses as users write them (pure parsing; the transport itself is
/// proven in the kernel lab, Tests/Lab/suites/lab-tipc*.sh).
struct TIPCAddressTests {
    @Test func typeAndInstance() throws {
        let endpoint = try TIPCEndpoint(parsing: "18888:7", defaultType: 1000)
        #expect(endpoint == TIPCEndpoint(type: 18888, instance: 7))
    }

    @Test func instanceAloneTakesTheConfiguredType() throws {
        #expect(try TIPCEndpoint(parsing: "42", defaultType: 20000) == TIPCEndpoint(type: 20000, instance: 42))
        #expect(try TIPCEndpoint(parsing: "tipc:19000:6", defaultType: 20000) == TIPCEndpoint(type: 19000, instance: 6))
    }

    @Test func starAsksForAFreeInstance() throws {
        #expect(try TIPCEndpoint(parsing: "*", defaultType: 18888).instance == nil)
        #expect(try TIPCEndpoint(parsing: "19000:*", defaultType: 18888) == TIPCEndpoint(type: 19000, instance: nil))
    }

    @Test(arguments: ["", "a:b", "1:2:3", "18888:-1", "18888:4294967296", "x"])
    func malformedAddressesAreOneSentence(_ text: String) {
        if text.isEmpty {
            // An empty address means "any instance" for a listener.
            #expect((try? TIPCEndpoint(parsing: text, defaultType: 18888))?.instance == nil)
            return
        }
        #expect(throws: TransportError.self) { try TIPCEndpoint(parsing: text, defaultType: 18888) }
    }

    @Test func reservedTypesAreRefused() {
        #expect(throws: TransportError.self) { try TIPCEndpoint(parsing: "1:1", defaultType: 18888) }
        #expect(throws: TransportError.self) { try TIPCEndpoint(parsing: "63:1", defaultType: 18888) }
    }

    @Test func framesFitOneTIPCMessage() {
        // 66,000-byte messages: a frame's header plus its largest payload must fit.
        #expect(FrameLayout.headerSize + TIPCConfiguration.maxFramePayload <= TIPCSyscalls.maxMessageBytes)
        #expect(TIPCConfiguration.maxFramePayload % 8 == 0)
    }
}
