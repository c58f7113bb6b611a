import Synchronization
import WeftConformance
import WeftCore

/// A deliberately broken transport: the wrapped one, except that every 50th frame a
/// listener receives is thrown away. The conformance suite must fail against it.
struct FrameDroppingSubject: ConformanceSubject {
    let base: any ConformanceSubject
    var name: String { "\(base.name) (dropping every 50th frame)" }

    func makeTransport(context: TransportContext) throws -> any Transport {
        FrameDroppingTransport(base: try base.makeTransport(context: context))
    }

    func listenAddress() -> String { base.listenAddress() }

    func sendRaw(_ bytes: [UInt8], to address: String, transport: any Transport) throws {
        try base.sendRaw(bytes, to: address, transport: (transport as! FrameDroppingTransport).base)
    }
}

final class FrameDroppingTransport: Transport {
    let base: any Transport
    init(base: any Transport) { self.base = base }
    var name: String { base.name }
    var capabilities: TransportCapabilities { base.capabilities }

    func listen(
        at address: String, options: ConnectionOptions, handler: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) throws(TransportError) -> any TransportListener {
        try base.listen(at: address, options: options) { peer in FrameDroppingHandler(inner: handler(peer)) }
    }

    func connect(
        to address: String, options: ConnectionOptions, handler: any ConnectionHandler
    ) throws(TransportError) -> any TransportConnection {
        try base.connect(to: address, options: options, handler: handler)
    }
}

final class FrameDroppingHandler: ConnectionHandler {
    let inner: any ConnectionHandler
    private let count = Atomic<Int>(0)
    init(inner: any ConnectionHandler) { self.inner = inner }

    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        if count.wrappingAdd(1, ordering: .relaxed).newValue % 50 == 0 { return }
        inner.received(frame, on: connection)
    }

    func closed(_ connection: any TransportConnection, error: TransportError?) { inner.closed(connection, error: error) }
}
