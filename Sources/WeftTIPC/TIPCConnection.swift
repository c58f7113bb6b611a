import Logging
import Synchronization
import WeftCore

/// One TIPC connection: a non-blocking `SOCK_SEQPACKET` socket driven by one IO thread.
/// Every Weft frame is one TIPC message, so the kernel keeps frame boundaries and no
/// stream parser or padding is needed on the wire.
///
/// ```
/// send ring (power of two; positions count bytes since the connection opened)
///
///   0          sent               committed = tail                   capacity
///   |..........|##################|++++++++|.........................|
///               committed frames,  reserved,
///               each padded to 8   being written
///               in the ring: one
///               sendmmsg sends up
///               to 64 as messages
///
///   A frame never wraps: the rest of a lap is padding (never sent), `wrapMark` is where
///   the lap's data ended.
///
/// receive slots (receiveSlots × 66,048 bytes, virtual: only touched pages are used)
///
///   | slot 0: message | slot 1: message | ... |   one recvmmsg fills them in order;
///   frames are delivered in place, one at a time (InOrderDelivery), and the next batch
///   is read once every frame of this one has been released.
/// ```
///
/// Threads: as the TCP transport. Receiving and registration changes run on the IO thread;
/// senders reserve and commit anywhere, and whoever holds the writer role (`writers`) sends.
/// On the IO thread a commit only marks the connection dirty (one `sendmmsg` after the
/// batch); elsewhere the IO thread, while awake, polls the committed position; while it
/// sleeps the sender writes itself.
public final class TIPCConnection: TransportConnection, IOSource, @unchecked Sendable {
    public let id: ConnectionID
    public internal(set) var peer: PeerInfo
    public let ioThread: IOThread
    public let largeMessageLock = SendSideLock()
    public internal(set) var maxReservation: Int
    public var maxMessageSize: Int { Int(limits.maxMessage) }

    let fd: Int32
    let logger: Logger
    let limits: FrameLimits
    let closeTimeout: UInt64
    let sendLock: SendSideLock?
    let phase: Atomic<UInt8>
    let closeMessage = Locked<String>("")

    // Owned by the IO thread.
    var registration: IORegistration?
    var handler: (any ConnectionHandler)?
    var handlerFactory: (@Sendable (PeerInfo) -> any ConnectionHandler)?
    var acceptor: AcceptorHandshake?
    var helloReceived = false
    var timerDeadline: UInt64 = 0
    var terminated = false
    var peerClosed = false
    var endOfStream = false
    /// Heartbeats and the idle time-out, once open (see `ConnectionLiveness`).
    var liveness: ConnectionLiveness
    var sentAtLastTick: UInt64 = 0
    /// An accepted connection's place in its listener's `max-connections`, given back at teardown.
    var quotaPlace: QuotaPlace?

    // Send side, grouped by writer thread a cache line apart (as in TCPConnection).
    let sendBase: UnsafeMutableRawPointer
    /// The mapping under `sendBase`: the ring, the close frame and slack.
    let sendBytes: Int
    let sendCapacity: UInt64
    let sendMask: UInt64
    let closeFrame: UnsafeMutableRawPointer
    var closeFrameLength = FrameLayout.headerSize
    /// A heartbeat frame, just past the close frame's room; sent between frames by the writer role.
    let heartbeatFrame: UnsafeMutableRawPointer
    let heartbeatRequested = Atomic<Bool>(false)
    let ioThreadAsleep = Atomic<Bool>(false)
    let closeRequested = Atomic<Bool>(false)
    let terminating = Atomic<Bool>(false)
    let sendFailure = Atomic<Int32>(0)
    private let pad0 = TIPCCacheLinePad()
    var tail: UInt64 = 0
    let committed = Atomic<UInt64>(0)
    let wrapMark = Atomic<UInt64>(0)
    private let pad1 = TIPCCacheLinePad()
    let writers = Atomic<Int>(0)
    let sent = Atomic<UInt64>(0)
    let writeBlocked = Atomic<Bool>(false)
    let closeFrameWritten = Atomic<Bool>(false)
    /// The writer role's scratch arrays for one `sendmmsg`.
    let batchBases: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let batchLengths: UnsafeMutablePointer<UInt32>
    let batchEnds: UnsafeMutablePointer<UInt64>
    private let pad2 = TIPCCacheLinePad()
    var lastPolledCommit: UInt64 = 0

    // Receive side (IO thread).
    let slotMemory: UnsafeMutableRawPointer
    let slotStride: Int
    let slotCount: Int
    let slotBases: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let slotLengths: UnsafeMutablePointer<UInt32>
    var received = 0
    var nextSlot = 0
    var delivered: UInt64 = 0
    var socketReadable = true
    var hangupSeen = false
    var delivery: InOrderDelivery

    static let maxCloseReason = 256
    /// Bytes allocated past the send ring: the close frame (header and reason) and a heartbeat frame.
    static let trailerBytes = FrameLayout.headerSize + maxCloseReason + 64 + FrameLayout.headerSize
    static let handshakeLimits = FrameLimits(maxFramePayload: 512, maxMessage: 512)

    enum Phase: UInt8 {
        case handshaking = 0
        case open = 1
        case closing = 2
        case closed = 3
    }

    init(
        fd: Int32, peer: PeerInfo, phase: Phase, thread: IOThread, context: TransportContext,
        configuration: TIPCConfiguration, options: ConnectionOptions
    ) {
        id = ConnectionID(tipcConnectionCounter.wrappingAdd(1, ordering: .relaxed).oldValue)
        self.fd = fd
        self.peer = peer
        ioThread = thread
        var logger = context.logger
        logger[metadataKey: "tipc.connection"] = "\(id)"
        logger[metadataKey: "tipc.peer"] = "\(peer.address)"
        self.logger = logger
        limits = context.limits
        closeTimeout = TIPCClock.nanoseconds(context.connectTimeout)
        sendLock = options.concurrentSenders ? SendSideLock() : nil
        self.phase = Atomic(phase.rawValue)

        sendCapacity = UInt64(configuration.sendBufferBytes)
        sendMask = sendCapacity - 1
        // Ring and slots on the plan's node (docs/numa.md), like TCP's buffers.
        let memoryNode = context.runtime.placement.memoryNode
        sendBytes = configuration.sendBufferBytes + Self.trailerBytes
        sendBase = NodeLocalMemory.allocate(byteCount: sendBytes, node: memoryNode, label: "tipc send ring")
        closeFrame = sendBase + configuration.sendBufferBytes
        heartbeatFrame = closeFrame + FrameLayout.headerSize + Self.maxCloseReason + 64
        FrameHeader(kind: .heartbeat).encode(to: heartbeatFrame)
        liveness = ConnectionLiveness(context: context, now: 0)
        batchBases = .allocate(capacity: TIPCSyscalls.batchLimit)
        batchLengths = .allocate(capacity: TIPCSyscalls.batchLimit)
        batchEnds = .allocate(capacity: TIPCSyscalls.batchLimit)

        slotCount = configuration.receiveSlots
        slotStride = (TIPCSyscalls.maxMessageBytes + 63) & ~63
        slotMemory = NodeLocalMemory.allocate(
            byteCount: slotStride * slotCount, node: memoryNode, label: "tipc receive slots")
        slotBases = .allocate(capacity: slotCount)
        slotLengths = .allocate(capacity: slotCount)
        for index in 0..<slotCount { slotBases[index] = slotMemory + index * slotStride }
        delivery = InOrderDelivery(limits: context.limits, reassembly: context.reassembly)
        maxReservation = 0
        if phase == .open { maxReservation = reservationLimit(peerMaxFramePayload: peer.maxFramePayload) }
    }

    deinit {
        if !terminated { TIPCSyscalls.close(fd) }
        NodeLocalMemory.deallocate(sendBase, byteCount: sendBytes)
        batchBases.deallocate()
        batchLengths.deallocate()
        batchEnds.deallocate()
        slotBases.deallocate()
        slotLengths.deallocate()
        // A handler may still hold the last frame, which points into a slot and at the
        // delivery's release cursor: leave both to it rather than free memory a frame can
        // read or write (rare: a connection dropped while its last frame was never released).
        if !delivery.leaveMemoryToHeldFrames() { NodeLocalMemory.deallocate(slotMemory, byteCount: slotStride * slotCount) }
    }

    /// One reservation holds at most one TIPC message's payload (and half the ring).
    func reservationLimit(peerMaxFramePayload: Int) -> Int {
        let half = Int(sendCapacity / 2) - FrameLayout.headerSize
        return max(0, min(half & ~7, peerMaxFramePayload, TIPCConfiguration.maxFramePayload))
    }

    public var isClosed: Bool { phase.load(ordering: .acquiring) >= Phase.closing.rawValue }

    /// Registers with the IO thread and watches the socket (on the IO thread).
    func start() throws(SystemError) {
        precondition(ioThread.isCurrent, "start a TIPC connection on its IO thread")
        let registration = ioThread.register(self, pollsMemory: true)
        self.registration = registration
        do {
            try ioThread.watch(fd, events: Self.socketEvents, for: registration, token: 0, pollWhileSpinning: true)
        } catch {
            ioThread.deregister(registration)
            self.registration = nil
            throw error
        }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            timerDeadline = TIPCClock.now + closeTimeout
        } else {
            startLiveness()
        }
    }

    /// Open: tick for heartbeats and the idle time-out (IO thread).
    func startLiveness() {
        guard let registration, !liveness.isOff else { return }
        ioThread.startTicking(registration, every: liveness.tickPeriod)
        liveness.heard(at: ioThread.now)
        liveness.sent(at: ioThread.now)
        sentAtLastTick = sent.load(ordering: .relaxed)
    }

    /// Heartbeats and the idle time-out (IO thread, open connections only). TIPC's link
    /// supervision finds a lost node; this finds a peer process that stopped or hung.
    public func tick(now: UInt64) {
        guard !terminated, phase.load(ordering: .relaxed) == Phase.open.rawValue else { return }
        let written = sent.load(ordering: .relaxed)
        if written != sentAtLastTick {
            sentAtLastTick = written
            liveness.sent(at: now)
        }
        // While a handler holds a frame this side reads nothing: silence proves nothing then.
        if delivery.isHolding { liveness.heard(at: now) }
        switch liveness.check(now: now) {
        case .none:
            break
        case .sendHeartbeat:
            heartbeatRequested.store(true, ordering: .releasing)
            requestWrite()
        case .peerLost(let silence):
            lost(liveness.lostReason(silentFor: silence))
        }
    }

    static let socketEvents = IOEvents(
        rawValue: IOEvents.readable.rawValue | IOEvents.writable.rawValue | IOEvents.peerHangup.rawValue
            | TIPCSyscalls.edgeTriggered)

    // MARK: IOSource

    public func poll() -> Int {
        var work = 0
        if delivery.isHolding { work += receive() }
        let now = committed.load(ordering: .relaxed)
        if now != lastPolledCommit {
            lastPolledCommit = now
            if !writeBlocked.load(ordering: .relaxed) {
                requestWrite()
                work += 1
            }
        }
        if timerDeadline != 0 { work += checkProgress() }
        return work
    }

    public func descriptorReady(token: UInt32, events: UInt32) {
        let hangup = IOEvents.hangup.rawValue | IOEvents.peerHangup.rawValue | IOEvents.error.rawValue
        if events & (IOEvents.readable.rawValue | hangup) != 0 {
            socketReadable = true
            if events & hangup != 0 { hangupSeen = true }
            _ = receive()
        }
        if terminated { return }
        if events & IOEvents.writable.rawValue != 0 {
            if committed.load(ordering: .acquiring) != sent.load(ordering: .relaxed)
                || (closeRequested.load(ordering: .relaxed) && !closeFrameWritten.load(ordering: .relaxed))
            {
                requestWrite()
            }
        }
        if timerDeadline != 0 { _ = checkProgress() }
    }

    package func prepareToSleep() -> SleepReadiness {
        ioThreadAsleep.store(true, ordering: .sequentiallyConsistent)
        if committed.load(ordering: .sequentiallyConsistent) != lastPolledCommit { return .busy }
        // A held frame's release is a memory store, not an event: look again soon.
        if delivery.isHolding { return .pollAgain(milliseconds: 1) }
        if timerDeadline != 0 {
            let now = TIPCClock.now
            guard now < timerDeadline else { return .busy }
            return .pollAgain(milliseconds: Int32(clamping: min(10, (timerDeadline - now) / 1_000_000 + 1)))
        }
        return .armed
    }

    public func didWake() {
        ioThreadAsleep.store(false, ordering: .relaxed)
    }

    public func flush() {
        requestWrite()
    }
}

let tipcConnectionCounter = Atomic<UInt64>(1)

/// 64 bytes that keep fields written by different threads on different cache lines.
struct TIPCCacheLinePad {
    let words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
}
