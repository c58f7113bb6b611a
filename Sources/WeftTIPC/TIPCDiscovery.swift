import Logging
import Synchronization
import WeftCore

/// Discovery through the TIPC topology server: a lasting subscription to every instance of
/// Weft's service type, per socket (`TIPC_SUB_PORTS`). A listener's publication is a peer
/// up; its withdrawal (the process ended or closed the listener, or link supervision lost
/// the node) is a peer down. A peer's name and address are its service address.
///
/// Runs on one IO thread: the subscription socket is watched by epoll like any connection.
public final class TIPCDiscovery: PeerDiscovery, IOSource, @unchecked Sendable {
    let serviceType: UInt32
    let ioThread: IOThread
    let logger: Logger
    private let state = Locked<(fd: Int32, report: (@Sendable (DiscoveryEvent) -> Void)?)>((-1, nil))
    // IO thread.
    private var registration: IORegistration?
    /// Publishing sockets per address: a peer is up while at least one publishes it.
    private var publishers: [TIPCServiceAddress: Set<TIPCPort>] = [:]

    public init(serviceType: UInt32, thread: IOThread, logger: Logger) {
        self.serviceType = serviceType
        ioThread = thread
        self.logger = logger
    }

    public func start(_ report: @escaping @Sendable (DiscoveryEvent) -> Void) throws(TransportError) {
        let fd: Int32
        do {
            fd = try TIPCSyscalls.openTopology(nonBlocking: true)
            try TIPCSyscalls.subscribe(
                fd, type: serviceType, lower: 0, upper: UInt32.max, perPort: true, timeoutMilliseconds: nil)
        } catch {
            throw .system(error)
        }
        state.withLock { $0 = (fd, report) }
        do {
            try ioThread.submitAndWait { () throws(SystemError) in
                let registration = self.ioThread.register(self, pollsMemory: false)
                self.registration = registration
                try self.ioThread.watch(
                    fd, events: IOEvents(rawValue: IOEvents.readable.rawValue | TIPCSyscalls.edgeTriggered),
                    for: registration, token: 0, pollWhileSpinning: false)
                self.drain()
            }
        } catch {
            stop()
            throw .system(error)
        }
    }

    public func stop() {
        let fd = state.withLock { state -> Int32 in
            let fd = state.fd
            state = (-1, nil)
            return fd
        }
        guard fd >= 0 else { return }
        ioThread.submitAndWait {
            if let registration = self.registration {
                self.ioThread.unwatch(fd, pollWhileSpinning: false)
                self.ioThread.deregister(registration)
                self.registration = nil
            }
            TIPCSyscalls.close(fd)
        }
    }

    public func descriptorReady(token: UInt32, events: UInt32) { drain() }

    /// Reads every waiting event (edge-triggered) and reports changes of up/down.
    private func drain() {
        let (fd, report) = state.withLock { ($0.fd, $0.report) }
        guard fd >= 0, let report else { return }
        while true {
            let event: TIPCTopologyEvent?
            do {
                event = try TIPCSyscalls.readEvent(fd)
            } catch {
                logger.error("TIPC discovery stopped: \(error)")
                return
            }
            guard let event else { return }
            let peer = DiscoveredPeer(name: event.address.description, address: event.address.description)
            switch event.kind {
            case .published:
                let wasUp = !(publishers[event.address]?.isEmpty ?? true)
                publishers[event.address, default: []].insert(event.port)
                if !wasUp { report(.up(peer)) }
            case .withdrawn:
                guard publishers[event.address]?.remove(event.port) != nil else { continue }
                if publishers[event.address]!.isEmpty {
                    publishers[event.address] = nil
                    report(.down(peer))
                }
            case .timedOut:
                continue
            }
        }
    }
}

extension TIPCTransport: DiscoveringTransport {
    public func makeDiscovery() -> any PeerDiscovery {
        TIPCDiscovery(serviceType: configuration.serviceType, thread: context.runtime.nextThread(), logger: context.logger)
    }
}
