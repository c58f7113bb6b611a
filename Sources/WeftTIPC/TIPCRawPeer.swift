import WeftCore

/// A peer that completes a real handshake, then sends whatever bytes it is given as one
/// TIPC message: how the conformance runner feeds a listener malformed frames.
package enum TIPCRawPeer {
    /// Handshakes with `address` as `transport`'s node, sends `bytes` as one message, and
    /// waits (up to 10 s) for the listener to end the connection.
    package static func send(_ bytes: [UInt8], to address: String, transport: TIPCTransport) throws(TransportError) {
        let endpoint = try TIPCEndpoint(parsing: address, defaultType: transport.configuration.serviceType)
        guard let instance = endpoint.instance else { throw .badAddress("'\(address)' names no instance") }
        let service = TIPCServiceAddress(type: endpoint.type, instance: instance)
        let deadline = TIPCClock.now + 10_000_000_000
        let (fd, _) = try TIPCConnector.handshake(with: service, context: transport.context, until: deadline)
        defer { TIPCSyscalls.close(fd) }
        do {
            _ = try bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try TIPCSyscalls.send(fd, raw) } }.get()
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: TIPCSyscalls.maxMessageBytes, alignment: 8)
            defer { scratch.deallocate() }
            while TIPCClock.now < deadline {
                guard let length = try TIPCSyscalls.receive(fd, into: scratch) else {
                    _ = try TIPCSyscalls.wait(fd, for: TIPCSyscalls.pollIn, until: deadline)
                    continue
                }
                if length == 0 { return }
            }
        } catch {
            // A reset is the listener closing it: what the caller waits for.
            return
        }
    }
}

extension TIPCTransport {
    /// Where a listener of this transport should go when it needs no fixed name.
    package static let anyInstance = "*"
}
