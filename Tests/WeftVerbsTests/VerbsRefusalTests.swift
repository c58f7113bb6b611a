import Testing

@testable import WeftVerbs

/// A listener's refusal travels in the reject's private data and comes out as its sentence.
@Suite struct VerbsRefusalTests {
    @Test func sentenceRoundTripsThroughPrivateData() {
        let reason = "the listener already holds 1 connections, the most max-connections allows"
        let data = VerbsRefusal.encode(reason)
        #expect(data.count <= VerbsRefusal.maxBytes)
        // rdma_cm hands the connector the whole private data area, zero-padded.
        let padded = data + [UInt8](repeating: 0, count: VerbsRefusal.maxBytes - data.count)
        #expect(VerbsRefusal.decode(padded) == reason)
    }

    /// Long sentences are cut to fit, never in the middle of a character.
    @Test func longSentencesAreCutWhole() {
        let data = VerbsRefusal.encode(String(repeating: "é", count: 200))
        #expect(data.count <= VerbsRefusal.maxBytes)
        let decoded = VerbsRefusal.decode(data)
        #expect(decoded != nil && decoded!.allSatisfy { $0 == "é" })
    }

    /// Another listener's reject (or none) is not taken for a Weft refusal.
    @Test func otherRejectsAreNotRefusals() {
        #expect(VerbsRefusal.decode([]) == nil)
        #expect(VerbsRefusal.decode(Array("some other reject".utf8)) == nil)
    }
}
