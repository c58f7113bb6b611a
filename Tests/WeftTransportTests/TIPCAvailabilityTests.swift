import Testing
import WeftCore
import WeftTransports

@testable import WeftTIPC

/// What users see about TIPC where it cannot run, and the rule that keeps `auto` from
/// picking TIPC without a cluster secret.
struct TIPCAvailabilityTests {
    /// This machine's kernel has no TIPC: the registry says so with the probe's sentence,
    /// and asking for tipc fails with it (never a crash).
    @Test func unavailableKernelGivesTheProbesSentence() throws {
        guard case .missing(let reason) = TIPCProbe.kernelSupport() else {
            // A kernel with TIPC: the transport must then be available.
            #expect(TIPCTransportModule.descriptor.probe() == .available)
            return
        }
        #expect(TIPCTransportModule.descriptor.probe() == .unavailable(reason: reason))
        #expect(reason.contains("socket(AF_TIPC)"))
        #expect(throws: ConfigurationError.self) { try TransportRegistry.builtIn.resolve(name: "tipc") }
    }

    @Test func withoutASecretTIPCsRuleIsUnmet() async throws {
        let rule = TIPCTransportModule.descriptor.unmetRequirement
        #expect(rule(try await load([:])) != nil)
        #expect(rule(try await load(["secret-file": "/any"])) == nil)
        #expect(rule(try await load(["allow-unauthenticated-peers": "true"])) == nil)
    }

    /// `auto` skips an available transport whose rule the configuration does not meet.
    @Test func autoSkipsATransportWhoseRuleIsUnmet() async throws {
        func fake(_ name: String, rule: String?) -> TransportDescriptor {
            TransportDescriptor(
                name: name, summary: name, probe: { .available },
                make: { _, _ throws(TransportError) in throw .unavailable("not made in this test") },
                unmetRequirement: { _ in rule })
        }
        let registry = TransportRegistry(
            [fake("guarded", rule: "no cluster secret"), fake("open", rule: nil)], autoPreference: ["guarded", "open"])
        let configuration = try await load([:])
        #expect(try registry.resolve(name: "auto", configuration: configuration).name == "open")
        // Named explicitly, it is still chosen: its own listener gives the sentence.
        #expect(try registry.resolve(name: "guarded", configuration: configuration).name == "guarded")
        // Without a configuration (no rule to check), auto takes the first available one.
        #expect(try registry.resolve(name: "auto").name == "guarded")
    }

    private func load(_ flags: [String: String]) async throws -> WeftConfiguration {
        try WeftConfiguration(try await ConfigurationLoader.load(flags: flags, environment: [:]))
    }
}
