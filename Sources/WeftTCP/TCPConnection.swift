internal import CWeftTCP
import Logging
import Synchronization
import WeftCore

/// One TCP connection: a non-blocking socket driven by one IO thread, a send ring of
/// committed frames, and a receive buffer that frames are delivered from in place.
///
/// ```
/// send ring (tcp.send-buffer-bytes rounded down to a power of two; positions count
/// bytes since the connection opened, offset = position mod capacity)
///
///   0             sent                   committed = tail                    capacity
///   |.............|######################|++++++++++|.......................|
///                  committed, not yet     reserved by the sender,
///                  written: the next      being written in place
///                  writev takes it all    (not yet committed)
///
///   A frame never wraps: when it does not fit before the end, the rest of the lap is
///   padding (never sent) and the frame starts at offset 0; `wrapMark` is where the
///   lap's data ended. One writev therefore needs at most two segments.
/// ```
///
/// The receive buffer (tcp.receive-buffer-bytes; grows as the bytes of a larger frame
/// arrive, up to that frame, and returns to its size once the socket is drained and nothing
/// is held) is a `TCPReceiveBuffer`, whose doc comment draws it.
///
/// Threads. Everything receive-side and every change of registration runs on the IO
/// thread. Senders run anywhere: they reserve and commit in the ring (no lock unless
/// `concurrentSenders`), then
/// - on the IO thread (a handler replying): the connection is marked dirty and the IO
///   thread writes every frame committed in the batch with one `writev` after the batch;
/// - on another thread while the IO thread is awake: nothing more — the IO thread polls
///   the committed position every turn and writes what it finds (frames committed
///   meanwhile coalesce into the same `writev`; the sender makes no system call);
/// - on another thread while the IO thread sleeps: the sender writes itself, since a
///   wake-up would cost more than the write.
/// Whoever writes holds the writer role (`writers`, a combining counter): a thread that
/// finds it taken only counts its request, and the holder makes one more pass for it.
public final class TCPConnection: TransportConnection, IOSource, @unchecked Sendable {
    public let id: ConnectionID
    public internal(set) var peer: PeerInfo
    public let ioThread: IOThread
    public let largeMessageLock = SendSideLock()
    /// Largest payload one reservation holds: half the send ring, at most the peer's frame limit.
    public internal(set) var maxReservation: Int
    /// Largest message `send` accepts: this side's `max-message-bytes`.
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
    /// The acceptor's half of the handshake while it runs; nil once established (and on the connector side).
    var acceptor: AcceptorHandshake?
    /// Acceptor side without a cluster secret: the only uid the peer's process may run as (see `admitLocalUser`).
    var requiredPeerUID: UInt32?
    var peerSocketAddress: TCPAddress?
    var helloReceived = false
    var timerDeadline: UInt64 = 0
    var terminated = false
    var peerClosed = false
    var endOfStream = false
    var shutDownWriting = false
    var sentAtLastCheck: UInt64 = 0
    /// Heartbeats and the idle time-out, once open (see `ConnectionLiveness`). IO thread only:
    /// no dynamic exclusivity check (it showed in profiles of the spinning receive path).
    @exclusivity(unchecked) var liveness: ConnectionLiveness
    var sentAtLastTick: UInt64 = 0
    /// An accepted connection's place in its listener's `max-connections`, given back at teardown.
    var quotaPlace: QuotaPlace?

    // Send side. Fields are grouped by the thread that writes them, a cache line apart,
    // so a sender committing and the IO thread polling do not share a line needlessly.
    /// The NUMA node the buffers come from (`NodeLocalMemory`; nil: first touch decides).
    let memoryNode: Int?
    let sendBase: UnsafeMutableRawPointer
    let sendCapacity: UInt64
    let sendMask: UInt64
    let closeFrame: UnsafeMutableRawPointer
    var closeFrameLength = FrameLayout.headerSize
    /// A heartbeat frame, just past the close frame's room; written between frames by the writer role.
    let heartbeatFrame: UnsafeMutableRawPointer
    let heartbeatRequested = Atomic<Bool>(false)
    let ioThreadAsleep = Atomic<Bool>(false)
    let closeRequested = Atomic<Bool>(false)
    let terminating = Atomic<Bool>(false)
    let sendFailure = Atomic<Int32>(0)
    private let pad0 = TCPCacheLinePad()
    /// The sender's: end of the last committed frame (under `sendLock` with concurrent senders).
    var tail: UInt64 = 0
    let committed = Atomic<UInt64>(0)
    let wrapMark = Atomic<UInt64>(0)
    private let pad1 = TCPCacheLinePad()
    /// The writer role's (see `requestWrite`).
    let writers = Atomic<Int>(0)
    let sent = Atomic<UInt64>(0)
    let writeBlocked = Atomic<Bool>(false)
    let closeFrameWritten = Atomic<Bool>(false)
    var closeFrameProgress = 0
    var heartbeatProgress = 0
    private let pad2 = TCPCacheLinePad()
    var lastPolledCommit: UInt64 = 0

    // Receive side (IO thread).
    /// The bytes read and the frames parsed from them (no system call in it: fuzzed on its own).
    /// Only the IO thread touches it, never from inside a handler, so it needs none of the
    /// dynamic exclusivity checks a struct property of a class would otherwise cost per frame
    /// (separate `Int` fields had none either).
    @exclusivity(unchecked) var receiveBuffer: TCPReceiveBuffer
    var socketReadable = true
    /// Spinning, this connection reads its socket on every turn itself (no `epoll_wait` per
    /// turn); epoll still reports hang-ups and writable edges, every 1024th turn.
    var readsWhileSpinning = false
    var hangupSeen = false
    var outstanding = false
    var delivered: UInt64 = 0
    let releaseCursor = ReleaseCursor(0)
    let reassembly: TCPReassembly

    /// Largest close reason carried (docs/protocol.md: at most 256 bytes).
    static let maxCloseReason = 256
    /// Bytes allocated past the send ring: the close frame (header and reason, padded) and a heartbeat frame.
    static let trailerBytes = FrameLayout.headerSize + maxCloseReason + 64 + FrameLayout.headerSize
    /// Limits while handshaking: handshake frames are small; anything bigger is not a Weft peer.
    static let handshakeLimits = FrameLimits(maxFramePayload: 512, maxMessage: 512)

    enum Phase: UInt8 {
        case handshaking = 0
        case open = 1
        case closing = 2
        case closed = 3
    }

    init(
        fd: Int32, peer: PeerInfo, phase: Phase, thread: IOThread, context: TransportContext,
        configuration: TCPConfiguration, options: ConnectionOptions
    ) {
        id = ConnectionID(tcpConnectionCounter.wrappingAdd(1, ordering: .relaxed).oldValue)
        self.fd = fd
        self.peer = peer
        self.ioThread = thread
        var logger = context.logger
        logger[metadataKey: "tcp.connection"] = "\(id)"
        logger[metadataKey: "tcp.peer"] = "\(peer.address)"
        self.logger = logger
        limits = context.limits
        closeTimeout = TCPClock.nanoseconds(context.connectTimeout)
        sendLock = options.concurrentSenders ? SendSideLock() : nil
        self.phase = Atomic(phase.rawValue)

        let ringBytes = UInt64(1) << (63 - UInt64(configuration.sendBufferBytes).leadingZeroBitCount)
        sendCapacity = ringBytes
        sendMask = ringBytes - 1
        // The close frame (header and reason) lives just past the ring, outside it.
        memoryNode = context.runtime.placement.memoryNode
        sendBase = NodeLocalMemory.allocate(
            byteCount: Int(ringBytes) + Self.trailerBytes, node: memoryNode, label: "tcp send buffer")
        closeFrame = sendBase + Int(ringBytes)
        FrameHeader(kind: .close).encode(to: closeFrame)
        heartbeatFrame = closeFrame + FrameLayout.headerSize + Self.maxCloseReason + 64
        FrameHeader(kind: .heartbeat).encode(to: heartbeatFrame)
        liveness = ConnectionLiveness(context: context, now: 0)
        maxReservation = 0

        receiveBuffer = TCPReceiveBuffer(capacity: configuration.receiveBufferBytes, memoryNode: memoryNode)
        reassembly = TCPReassembly(limits: context.limits, reassembly: context.reassembly)
        if phase == .open { maxReservation = reservationLimit(peerMaxFramePayload: peer.maxFramePayload) }
    }

    deinit {
        if !terminated { TCPSocket.close(fd) }
        NodeLocalMemory.deallocate(sendBase, byteCount: Int(sendCapacity) + Self.trailerBytes)
        if outstanding && releaseCursor.position != delivered {
            // A handler still holds a frame that points into this memory: leave it to the
            // frame (rare: the connection is gone and its last frame was never released).
            _ = Unmanaged.passRetained(releaseCursor)
            _ = Unmanaged.passRetained(reassembly)
        } else {
            receiveBuffer.deallocate()
        }
    }

    func reservationLimit(peerMaxFramePayload: Int) -> Int {
        let half = Int(sendCapacity / 2) - FrameLayout.headerSize
        return max(0, min(half & ~7, peerMaxFramePayload, Int(FrameLimits.protocolMaximum)))
    }

    public var isClosed: Bool { phase.load(ordering: .acquiring) >= Phase.closing.rawValue }

    // MARK: Starting

    /// Registers with the IO thread and watches the socket (on the IO thread).
    func start() throws(SystemError) {
        precondition(ioThread.isCurrent, "start a TCP connection on its IO thread")
        let registration = ioThread.register(self, pollsMemory: true)
        self.registration = registration
        readsWhileSpinning = ioThread.claimSpinReader()
        do {
            try ioThread.watch(
                fd, events: Self.socketEvents, for: registration, token: 0, pollWhileSpinning: !readsWhileSpinning)
        } catch {
            if readsWhileSpinning { ioThread.releaseSpinReader() }
            readsWhileSpinning = false
            ioThread.deregister(registration)
            self.registration = nil
            throw error
        }
        if phase.load(ordering: .relaxed) == Phase.handshaking.rawValue {
            timerDeadline = TCPClock.now + closeTimeout
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

    /// Edge-triggered: a readable or writable edge is reported once; the connection reads
    /// until the socket is drained (or remembers that it stopped early) and writes until
    /// the socket is full (then the next writable edge resumes it).
    static let socketEvents = IOEvents(
        rawValue: IOEvents.readable.rawValue | IOEvents.writable.rawValue | IOEvents.peerHangup.rawValue
            | CWEFT_TCP_EPOLLET)

    // MARK: IOSource

    public func poll() -> Int {
        var work = 0
        if readsWhileSpinning {
            if !terminated && !peerClosed && (!outstanding || releaseCursor.position == delivered) {
                socketReadable = true
                work += receive()
            }
            // No writable edge is seen between epoll passes: a blocked writer tries again.
            if !terminated && writeBlocked.load(ordering: .relaxed) { requestWrite() }
        } else if outstanding && releaseCursor.position == delivered {
            work += receive()
        }
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
        // A sender that committed before seeing the flag left the write to this thread.
        if committed.load(ordering: .sequentiallyConsistent) != lastPolledCommit { return .busy }
        if outstanding { return releaseCursor.position == delivered ? .busy : .pollAgain(milliseconds: 1) }
        if timerDeadline != 0 {
            let now = TCPClock.now
            guard now < timerDeadline else { return .busy }
            return .pollAgain(milliseconds: Int32(clamping: min(10, (timerDeadline - now) / 1_000_000 + 1)))
        }
        return .armed
    }

    public func didWake() {
        ioThreadAsleep.store(false, ordering: .relaxed)
    }

    /// Heartbeats and the idle time-out (IO thread, open connections only).
    public func tick(now: UInt64) {
        guard !terminated, phase.load(ordering: .relaxed) == Phase.open.rawValue else { return }
        let written = sent.load(ordering: .relaxed)
        if written != sentAtLastTick {
            sentAtLastTick = written
            liveness.sent(at: now)
        }
        // While a handler holds a frame this side reads nothing: silence proves nothing then.
        if outstanding { liveness.heard(at: now) }
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

    /// Pushes committed frames out now (IO thread after a batch, or any sender).
    public func flush() {
        requestWrite()
    }
}

/// Connection numbers, unique within the process.
let tcpConnectionCounter = Atomic<UInt64>(1)

/// 64 bytes that keep fields written by different threads on different cache lines.
struct TCPCacheLinePad {
    let words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
}

/// Holds the reassembly buffer of fragmented messages (a class so a frame still held
/// past the connection's end can keep it alive).
final class TCPReassembly {
    /// IO thread only (no dynamic exclusivity check per released frame).
    @exclusivity(unchecked) var assembler: FragmentAssembler

    init(limits: FrameLimits, reassembly: ReassemblyLimits) {
        assembler = FragmentAssembler(limits: limits, reassembly: reassembly)
    }
}
