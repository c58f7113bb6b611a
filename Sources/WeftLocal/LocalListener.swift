import Synchronization
import WeftCore

/// A name in the process-wide table; connecting to it pairs two rings.
public final class LocalListener: TransportListener, @unchecked Sendable {
    let name: String
    let transport: LocalTransport
    let options: ConnectionOptions
    let handlerFactory: @Sendable (PeerInfo) -> any ConnectionHandler

    init(
        name: String, transport: LocalTransport, options: ConnectionOptions,
        handlerFactory: @escaping @Sendable (PeerInfo) -> any ConnectionHandler
    ) {
        self.name = name
        self.transport = transport
        self.options = options
        self.handlerFactory = handlerFactory
    }

    public var address: String { "local:\(name)" }

    /// Stops accepting; connections already made go on.
    public func close() { LocalDirectory.remove(self) }
}

/// The process-wide table of local listeners by name.
enum LocalDirectory {
    private static let listeners = Locked<[String: LocalListener]>([:])

    static func register(_ listener: LocalListener) throws(TransportError) {
        let added = listeners.withLock { table -> Bool in
            guard table[listener.name] == nil else { return false }
            table[listener.name] = listener
            return true
        }
        if !added { throw .badAddress("local address '\(listener.name)' is already in use in this process") }
    }

    static func lookup(_ name: String) -> LocalListener? { listeners.withLock { $0[name] } }

    static func remove(_ listener: LocalListener) {
        listeners.withLock { table in
            if table[listener.name] === listener { table[listener.name] = nil }
        }
    }
}
