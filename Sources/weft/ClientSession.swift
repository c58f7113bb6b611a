import Weft
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// The client side of `pingpong` and `rate`: a node, the peer it started (unless told to
/// `--connect`), and one connection to it. Used from one thread at a time.
final class ClientSession: @unchecked Sendable {
    let node: WeftNode
    let peer: PeerProcess?
    let connection: any TransportConnection
    /// When the run must be over (monotonic nanoseconds).
    let deadline: UInt64

    /// - Parameters:
    ///   - configuration: the client's configuration (already adjusted by the command).
    ///   - common: the user's options, forwarded to a started peer.
    ///   - connect: an address to connect to; nil starts `weft serve` as the peer.
    ///   - peerCPU: the CPU the started peer pins its IO thread to.
    ///   - timeoutSeconds: for the whole run, start-up included.
    init(
        configuration: WeftConfiguration, common: CommonOptions, connect: String?, peerCPU: Int?,
        timeoutSeconds: Int, handler: any ConnectionHandler, tag: String
    ) throws {
        deadline = monotonicNanoseconds() + UInt64(timeoutSeconds) * 1_000_000_000
        node = try WeftNode.start(configuration, label: "weft-\(tag)", address: connect)
        do {
            let address: String
            if let connect {
                peer = nil
                address = connect
            } else {
                let name = node.descriptor.name
                guard let listenAddress = BenchProtocol.localListenAddress(transport: name, tag: tag) else {
                    throw CommandFailure.usage(
                        "\(tag) cannot start a local peer for transport \(name); start `weft serve --transport \(name)` and pass --connect ADDRESS"
                    )
                }
                var arguments = [
                    "serve", "--transport", name, "--listen", listenAddress,
                    "--parent-pid", String(getpid()),
                ]
                // The peer is pinned by --peer-cpu only, never by this side's io-cpus.
                arguments += peerCPU.map { ["--cpu", String($0)] } ?? ["--io-cpus", ""]
                arguments += common.forwardedArguments(excluding: [ConfigKeys.transport.key, ConfigKeys.ioCPUs.key])
                let started = try PeerProcess(arguments: arguments)
                peer = started
                address = try started.waitUntilListening(deadline: deadline)
            }
            connection = try node.transport.connect(to: address, options: ConnectionOptions(), handler: handler)
        } catch {
            node.shutdown()
            throw error
        }
    }

    /// Waits on the main thread until `isDone`, failing on interruption, on the peer's
    /// death and at the deadline.
    func wait(until isDone: () -> Bool, what: String) throws(CommandFailure) {
        while !isDone() {
            if Wakeup.wasInterrupted { throw .interrupted }
            try peer?.checkAlive()
            if monotonicNanoseconds() >= deadline { throw .timedOut(what) }
            Wakeup.wait(milliseconds: 200)
        }
    }

    /// Closes the connection, stops the peer and the IO threads.
    func finish() {
        connection.close()
        peer?.terminate()
        node.shutdown()
    }
}
