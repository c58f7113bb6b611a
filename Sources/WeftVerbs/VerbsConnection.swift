internal import CWeftVerbs
import Logging
import Synchronization
import WeftCore

/// One verbs connection: an RC queue pair set up by rdma_cm, driven by one IO thread.
///
/// ```
/// registered chunk (from the device's pool, one per connection)
///
///   0                      S·B             S·B + 8·512                        P             P + V         P + 2V
///   | send slots (S × B)    | control slots | receive buffers ((R + 16) × B)     | rendezvous   | rendezvous   |
///   | frames the app        | credit, close,| posted to the SRQ; a received frame| send region  | read region  |
///   | reserves and commits  | handshake,    | is handed up in place and reposted | (large       | (the peer's  |
///   | (sender thread)       | done (IO)     | when released (IO thread)          | frames, ring)| frames, ring)|
///
///   S = sendSlots, B = bufferBytes, R = receiveCredits (the peer's send credits),
///   P = the next page boundary, V = one rendezvous region (a header + rendezvousBytes, whole pages)
/// ```
///
/// Large frames (payload above the eager limit): `reserve` hands out space in the rendezvous
/// send region (a ring: up to `maxRendezvousInFlight` frames at once); `commit` sends a
/// small `rendezvousReady` (address, rkey, length, token) in a slot instead. The peer reads
/// the frame with one RDMA READ into its read region (a ring too, so READs of several frames
/// overlap), answers `rendezvousDone` (which frees the frame's space, and every earlier
/// one's), and delivers the frame in place in its turn.
///
/// Sending: `reserve` needs a free send slot and a credit; `commit` posts one send work
/// request at once from the sender's thread (inline when the frame fits `max_inline_data`,
/// signalled only every `signalInterval` sends or when the slots run out). Slots come back
/// when a signalled send completes (RC completes in order), credits when the peer's
/// `credit` frame arrives.
///
/// Receiving: the IO thread polls the CQ in batches; send completions free slots at once,
/// receive completions queue in order and are delivered one at a time through
/// `InOrderDelivery`. A released buffer is reposted and counted; a quarter of the credits
/// reposted goes back to the peer in one `credit` frame. So the peer never sends into an
/// empty SRQ (no receiver-not-ready NAKs) and a slow receiver stalls its sender.
public final class VerbsConnection: TransportConnection, IOSource, @unchecked Sendable {
    public let id: ConnectionID
    public internal(set) var peer: PeerInfo
    public let ioThread: IOThread
    public let largeMessageLock = SendSideLock()
    /// Largest payload one reservation holds: one send slot, at most the peer's receive buffer.
    public internal(set) var maxReservation: Int
    public var maxMessageSize: Int { Int(limits.maxMessage) }

    let queuePair: VerbsQueuePair
    let device: VerbsDevice
    let chunk: VerbsMemoryPool.Chunk
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
    var timerDeadline: UInt64 = 0
    /// Heartbeats and the idle time-out (see `VerbsConnection+Liveness`).
    var liveness: ConnectionLiveness
    var sendsAtLastTick: UInt64 = 0
    /// An accepted connection's place in its listener's `max-connections`, given back at the end.
    var quotaPlace: QuotaPlace?
    var terminated = false
    var peerClosed = false
    var closeQueued = false
    var closePosition: UInt64 = 0
    var closeCompleted = false
    var disconnected = false

    // Send side, the sender's thread (under `sendLock` with concurrent senders).
    let qp: UnsafeMutablePointer<ibv_qp>
    let lkey: UInt32
    let sendBase: UnsafeMutableRawPointer
    let slotBytes: Int
    let slotCount: UInt64
    let inlineLimit: Int
    let signalInterval: UInt64
    var tail: UInt64 = 0
    var lastSignaled: UInt64 = 0
    /// Large frames in the rendezvous send region, and where the one reserved now starts.
    var sendRegion: RendezvousRing
    var reservedRegionStart: UInt64 = 0
    /// Each rendezvous token's end in the send region (slot `token % maxRendezvousInFlight`):
    /// written at commit, read by the IO thread when the peer's `rendezvousDone` frees it.
    let rendezvousEnds: UnsafeMutablePointer<UInt64>
    private let pad0 = VerbsCacheLinePad()
    /// Written by the IO thread: sends known complete, credits granted by the peer.
    let completedSends = Atomic<UInt64>(0)
    let credits: Atomic<Int>
    let sendFailure = Atomic<Int32>(0)
    /// Rendezvous offered (sender) and read by the peer (`rendezvousDone`, IO thread): at most
    /// `maxRendezvousInFlight` apart. Tokens count from 1.
    let rendezvousIssued = Atomic<UInt64>(0)
    let rendezvousFreed = Atomic<UInt64>(0)
    /// The send region's ring position before which the peer has read everything (IO thread).
    let sendRegionHead = Atomic<UInt64>(0)
    private let pad1 = VerbsCacheLinePad()
    let counters = VerbsCounters()

    // Rendezvous (fixed at setup; the limits when the handshake ends).
    let rendezvousSendBase: UnsafeMutableRawPointer
    let rendezvousReadBase: UnsafeMutableRawPointer
    /// Bytes of a frame (header included) one region holds; 0 without rendezvous.
    let rendezvousFrameBytes: Int
    let rkey: UInt32
    let rendezvousThreshold: Int
    /// The peer's read region, from its private data (0: it takes no rendezvous).
    var peerRendezvousFrameBytes = 0
    /// Largest payload sent with one send; larger reservations go by rendezvous.
    var eagerLimit = 0
    /// Limits for frames read by rendezvous.
    let rendezvousLimits: FrameLimits

    // Control sends (IO thread).
    let controlBase: UnsafeMutableRawPointer
    var controlPosted: UInt64 = 0
    var controlCompleted: UInt64 = 0

    // Receive side (IO thread).
    let receiveBase: UnsafeMutableRawPointer
    let receiveBufferCount: Int
    let bufferBytes: Int
    let creditThreshold: Int
    var creditsToReturn = 0
    var heldBuffer = -1
    var delivered: UInt64 = 0
    /// The receiver's rendezvous, oldest first (see `VerbsConnection+Rendezvous`).
    var reads: PendingReads
    /// A `rendezvousDone` token still to send (no control slot was free); 0: none.
    var doneToSend: UInt64 = 0
    /// Receive completions polled and not yet handled, in arrival order: (buffer index, byte length).
    let receiveRing: UnsafeMutablePointer<(UInt32, UInt32)>
    let receiveRingMask: Int
    var receiveHead = 0
    var receiveTail = 0
    let completions: UnsafeMutablePointer<ibv_wc>
    static let pollBatch: Int32 = 32
    /// Behind a pointer: the handler runs inside `deliver` (see `SharedMemoryConnection`).
    let delivery: UnsafeMutablePointer<InOrderDelivery>

    /// Limits while handshaking: handshake frames are small.
    static let handshakeLimits = FrameLimits(maxFramePayload: 512, maxMessage: 512)
    static let maxCloseReason = 256

    enum Phase: UInt8 {
        case handshaking = 0
        case open = 1
        case closing = 2
        case closed = 3
    }

    /// What a work request id says: its kind in the top byte, a position or buffer index below.
    enum WorkKind: UInt64 {
        case send = 1
        case control = 2
        case receive = 3
        case read = 4
    }

    init(
        queuePair: VerbsQueuePair, device: VerbsDevice, chunk: VerbsMemoryPool.Chunk, peer: PeerInfo,
        peerCredits: Int, phase: Phase, thread: IOThread, context: TransportContext,
        configuration: VerbsConfiguration, options: ConnectionOptions
    ) {
        id = ConnectionID(verbsConnectionCounter.wrappingAdd(1, ordering: .relaxed).oldValue)
        self.queuePair = queuePair
        self.device = device
        self.chunk = chunk
        self.peer = peer
        ioThread = thread
        var logger = context.logger
        logger[metadataKey: "verbs.connection"] = "\(id)"
        logger[metadataKey: "verbs.peer"] = "\(peer.address)"
        self.logger = logger
        limits = context.limits
        closeTimeout = VerbsClock.nanoseconds(context.connectTimeout)
        liveness = ConnectionLiveness(context: context, now: 0)
        sendLock = options.concurrentSenders ? SendSideLock() : nil
        self.phase = Atomic(phase.rawValue)

        qp = queuePair.qp
        lkey = chunk.lkey
        slotBytes = configuration.bufferBytes
        slotCount = UInt64(configuration.sendSlots)
        sendBase = chunk.base
        controlBase = chunk.base + configuration.sendSlots * configuration.bufferBytes
        receiveBase = controlBase + VerbsConfiguration.controlSlots * VerbsConfiguration.controlSlotBytes
        bufferBytes = configuration.bufferBytes
        receiveBufferCount = configuration.receiveCredits + VerbsConfiguration.controlReceives
        inlineLimit = queuePair.maxInlineData
        signalInterval = UInt64(max(1, configuration.sendSlots / 4))
        credits = Atomic(peerCredits)
        creditThreshold = max(1, configuration.receiveCredits / 4)
        var ringSize = 1
        while ringSize < receiveBufferCount * 2 { ringSize <<= 1 }
        receiveRing = .allocate(capacity: ringSize)
        receiveRingMask = ringSize - 1
        completions = .allocate(capacity: Int(Self.pollBatch))
        delivery = .allocate(capacity: 1)
        delivery.initialize(to: InOrderDelivery(limits: context.limits, reassembly: context.reassembly))
        rendezvousFrameBytes = configuration.rendezvousBytes == 0 ? 0 : FrameLayout.headerSize + configuration.rendezvousBytes
        sendRegion = RendezvousRing(capacity: configuration.rendezvousRegionBytes)
        rendezvousEnds = .allocate(capacity: VerbsConfiguration.maxRendezvousInFlight)
        rendezvousEnds.initialize(repeating: 0, count: VerbsConfiguration.maxRendezvousInFlight)
        reads = PendingReads(regionBytes: configuration.rendezvousRegionBytes)
        rendezvousSendBase = chunk.base + configuration.rendezvousOffset
        rendezvousReadBase = rendezvousSendBase + configuration.rendezvousRegionBytes
        rkey = chunk.rkey
        rendezvousThreshold = configuration.rendezvousThreshold
        rendezvousLimits = FrameLimits(
            maxFramePayload: UInt32(clamping: min(Int(context.limits.maxFramePayload), configuration.rendezvousBytes)),
            maxMessage: context.limits.maxMessage)
        maxReservation = 0
        if phase == .open { setSendLimits(peerMaxFramePayload: peer.maxFramePayload) }
    }

    deinit {
        // Senders hold a reference while they post, so the queue pair goes only when none can.
        queuePair.destroy()
        receiveRing.deallocate()
        completions.deallocate()
        rendezvousEnds.deallocate()
        reads.deallocate()
        // A handler that still holds a frame points into the chunk and the delivery state:
        // both are left to it (rare: the connection is gone and its last frame never released).
        if !delivery.pointee.leaveMemoryToHeldFrames() {
            device.pool.give(chunk)
            delivery.deinitialize(count: 1)
            delivery.deallocate()
        }
    }

    /// Once the peer's limits are known (end of the handshake): the eager limit (one slot, one
    /// of the peer's buffers, the rendezvous threshold) and the largest reservation (one
    /// rendezvous region, ours and the peer's, when both sides have one).
    func setSendLimits(peerMaxFramePayload: Int) {
        let oneSend = max(0, min(slotBytes - FrameLayout.headerSize, peerMaxFramePayload) & ~7)
        let rendezvous = max(0, min(rendezvousFrameBytes, peerRendezvousFrameBytes) - FrameLayout.headerSize) & ~7
        if rendezvous > oneSend {
            eagerLimit = min(oneSend, rendezvousThreshold)
            maxReservation = min(rendezvous, Int(limits.maxMessage))
        } else {
            eagerLimit = oneSend
            maxReservation = oneSend
        }
    }

    public var isClosed: Bool { phase.load(ordering: .acquiring) >= Phase.closing.rawValue }

    /// True when `pointer` lies in memory registered with the device (zero-copy proof for tests).
    public func isInRegisteredMemory(_ pointer: UnsafeRawPointer) -> Bool { device.pool.contains(pointer) }

    /// Frames this side has posted as sends (data, request, response and their fragments).
    public var framesSent: UInt64 { counters.sends.load(ordering: .relaxed) }

    /// Sends, rendezvous and RDMA READs of this connection so far.
    public var statistics: VerbsStatistics { counters.snapshot }

    /// The largest payload the peer's receive buffers take, as this side advertises its own.
    var ownMaxFramePayload: Int { bufferBytes - FrameLayout.headerSize }

    // MARK: Starting

    /// Posts every receive buffer to the SRQ (before the peer can send).
    func postAllReceives() throws(SystemError) {
        for index in 0..<receiveBufferCount {
            let code = repostCode(index)
            guard code == 0 else { throw SystemError("ibv_post_srq_recv", errno: code) }
        }
    }

    @inline(__always)
    func repostCode(_ index: Int) -> Int32 {
        VerbsSyscalls.postReceive(
            queuePair.srq, id: Self.workID(.receive, UInt64(index)), receiveBase + index * bufferBytes,
            length: bufferBytes, lkey: lkey)
    }

    /// Registers with the IO thread and watches the completion and rdma_cm channels (on the IO thread).
    func start() throws(SystemError) {
        precondition(ioThread.isCurrent, "start a verbs connection on its IO thread")
        let registration = ioThread.register(self, pollsMemory: true)
        self.registration = registration
        do {
            try VerbsSyscalls.setNonBlocking(queuePair.eventFD)
            try ioThread.watch(
                queuePair.completionFD, events: .readable, for: registration, token: Token.completions,
                pollWhileSpinning: false)
            try ioThread.watch(
                queuePair.eventFD, events: .readable, for: registration, token: Token.events, pollWhileSpinning: false)
        } catch {
            ioThread.unwatch(queuePair.completionFD, pollWhileSpinning: false)
            ioThread.deregister(registration)
            self.registration = nil
            throw error
        }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            timerDeadline = VerbsClock.now + closeTimeout
        } else {
            startLiveness()
        }
    }

    enum Token {
        static let completions: UInt32 = 1
        static let events: UInt32 = 2
    }

    @inline(__always)
    static func workID(_ kind: WorkKind, _ value: UInt64) -> UInt64 { kind.rawValue << 56 | value }

    // MARK: IOSource

    public func poll() -> Int {
        guard !terminated else { return 0 }
        var work = pollCompletions()
        work += drainReceives()
        if creditsToReturn >= creditThreshold && !terminated { returnCredits() }
        if doneToSend != 0 && !terminated { sendDone() }
        if timerDeadline != 0 && !terminated { work += checkTimer() }
        return work
    }

    /// The IO loop calls `poll()` through this, with no reference counting.
    package var pollHook: PollHook? {
        PollHook(context: Unmanaged.passUnretained(self).toOpaque()) { context in
            Unmanaged<VerbsConnection>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.poll() }
        }
    }

    public func descriptorReady(token: UInt32, events: UInt32) {
        guard !terminated else { return }
        switch token {
        case Token.completions:
            queuePair.drainNotifications()
            _ = poll()
        default:
            handleConnectionEvents()
        }
    }

    /// Arms the completion channel, then looks once more: a completion that arrived before
    /// the arming raised no event. corresponding C function: `ibv_req_notify_cq`.
    package func prepareToSleep() -> SleepReadiness {
        guard !terminated else { return .armed }
        if delivery.pointee.isHolding { return .pollAgain(milliseconds: 1) }
        _ = VerbsSyscalls.armNotification(queuePair.cq)
        if poll() > 0 { return .busy }
        if timerDeadline != 0 {
            let now = VerbsClock.now
            guard now < timerDeadline else { return .busy }
            return .pollAgain(milliseconds: Int32(clamping: min(10, (timerDeadline - now) / 1_000_000 + 1)))
        }
        return .armed
    }

    /// Sends leave at commit; nothing is coalesced.
    public func flush() {}
}

/// Connection numbers, unique within the process.
let verbsConnectionCounter = Atomic<UInt64>(1)

/// 64 bytes that keep fields written by different threads on different cache lines.
struct VerbsCacheLinePad {
    let words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
}
