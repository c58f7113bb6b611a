import WeftCore
import WeftVerbs

/// `--transport-statistics`: what the transport itself counted on the measuring connection,
/// so that a lab suite can prove how messages moved (verbs: sends against RDMA READs) and
/// where a received frame lay (inside registered memory), from Weft's own binary.
enum TransportStatisticsReport {
    /// The transport's counters as a JSON object; null for transports that keep none.
    /// `received` is the payload address of the last frame delivered on the connection.
    static func json(for connection: any TransportConnection, received: UnsafeRawPointer?) -> JSON {
        guard let verbs = connection as? VerbsConnection else { return .null }
        let statistics = verbs.statistics
        return .object([
            ("sends", .integer(Int(statistics.sends))),
            ("rendezvous_sends", .integer(Int(statistics.rendezvousSends))),
            ("control_sends", .integer(Int(statistics.controlSends))),
            ("rdma_reads", .integer(Int(statistics.rdmaReads))),
            ("rdma_read_bytes", .integer(Int(statistics.rdmaReadBytes))),
            ("rendezvous_peak_in_flight", .integer(Int(statistics.rendezvousPeakInFlight))),
            ("received_in_registered_memory", .bool(received.map { verbs.isInRegisteredMemory($0) } ?? false)),
        ])
    }
}
