import CWeftSharedMemory
import Logging
import Synchronization
import WeftCore

#if canImport(Glibc)
    import Glibc
#endif

/// One shared-memory connection: a ring to send on, a ring to receive from, the peer's
/// eventfd to wake it, a pidfd that tells when the peer process dies, and the setup socket.
public final class SharedMemoryConnection: TransportConnection, IOSource, @unchecked Sendable {
    public let id: ConnectionID
    public let peer: PeerInfo
    public let maxReservation: Int
    public var maxMessageSize: Int { Int(limits.maxMessage) }
    public let ioThread: IOThread
    public let largeMessageLock = SendSideLock()

    let region: SharedMemoryRegion
    let producer: UnsafeMutablePointer<RingProducer>
    private let consumer: UnsafeMutablePointer<RingConsumer>
    private let descriptors: Descriptors
    private let limits: FrameLimits
    private let handler: any ConnectionHandler
    private let logger: Logger
    let sendLock: SendSideLock?

    // IO-thread state.
    private var registration: IORegistration?
    /// Torn down: the handler heard `closed`. The registration outlives this while the handler
    /// still holds a frame (see `finish`), so the connection outlives its frames.
    private var finished = false
    /// Behind a pointer, like the rings: the handler runs inside `deliver`, and a stored
    /// property mutated across that call would cost a dynamic exclusivity check per frame.
    private let delivery: UnsafeMutablePointer<InOrderDelivery>
    /// The handler again when it takes batches of data frames (decided here, not per frame),
    /// and the batch being gathered: where it starts in the ring and its frames.
    private let batchHandler: (any BatchConnectionHandler)?
    /// How this side, as the consumer of its receive ring, announces sleep (declared in the
    /// control page at setup).
    private let ownWakeProtocol: WakeProtocol
    private let batch: UnsafeMutablePointer<BatchBuffer>
    private var batchStart: UInt64 = 0

    /// Heartbeats and the idle time-out: this side's count in the control page, and the peer's.
    private var liveness: ConnectionLiveness
    private let ownHeartbeats: UnsafeMutablePointer<UInt64>
    private let peerHeartbeats: UnsafeMutablePointer<UInt64>
    private var peerHeartbeatsSeen: UInt64 = 0
    /// An accepted connection's place in its listener's `max-connections`, given back at the end.
    var quotaPlace: QuotaPlace?

    private let state = Atomic<UInt8>(State.open.rawValue)
    private enum State: UInt8 { case open, closing, closed }

    struct Descriptors {
        let socket: Int32
        let ownWake: Int32
        let peerWake: Int32
        let peerProcess: Int32
    }

    /// `sendRing`/`receiveRing`: 0 and 1 for the connector, 1 and 0 for the acceptor.
    init(
        id: ConnectionID, peer: PeerInfo, region: SharedMemoryRegion, sendRing: Int,
        descriptors: Descriptors, thread: IOThread, context: TransportContext, options: ConnectionOptions,
        handler: any ConnectionHandler
    ) {
        self.id = id
        self.peer = peer
        self.region = region
        self.descriptors = descriptors
        self.ioThread = thread
        self.limits = context.limits
        self.handler = handler
        self.logger = context.logger
        sendLock = options.concurrentSenders ? SendSideLock() : nil
        // Producer and consumer state are written by different threads on every message:
        // each gets cache lines of its own (128 bytes: adjacent-line prefetch included).
        producer = Self.allocateOnOwnLines(RingProducer.self)
        // Decided once here from what each side wrote in the control page (sendRing 0: this
        // side is the connector, the peer the acceptor).
        let peerIsConnector = sendRing == 1
        let peerMode = region.mode(ofConnector: peerIsConnector)
        let peerWakeProtocol = region.wakeProtocol(ofConnector: peerIsConnector)
        producer.initialize(
            to: RingProducer(
                ring: region.ring(sendRing), consumerWakeFD: peerMode == .spin ? -1 : descriptors.peerWake,
                fencesBeforeWakeCheck: !(peerWakeProtocol == .consumerBarrier && GlobalMembarrier.registered)))
        // This side's own choice, not read back from memory the peer can write.
        ownWakeProtocol = WakeProtocol.declared(by: context.runtime.progress)
        consumer = Self.allocateOnOwnLines(RingConsumer.self)
        consumer.initialize(to: RingConsumer(ring: region.ring(1 - sendRing)))
        maxReservation = min(producer.pointee.maxPayload, peer.maxFramePayload)
        delivery = Self.allocateOnOwnLines(InOrderDelivery.self)
        delivery.initialize(to: InOrderDelivery(limits: context.limits, reassembly: context.reassembly))
        batchHandler = handler as? any BatchConnectionHandler
        batch = Self.allocateOnOwnLines(BatchBuffer.self)
        batch.initialize(to: BatchBuffer())
        liveness = ConnectionLiveness(context: context, now: 0)
        ownHeartbeats = region.heartbeatCount(sendRing: sendRing)
        peerHeartbeats = region.heartbeatCount(sendRing: 1 - sendRing)
    }

    private static func allocateOnOwnLines<T: ~Copyable>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        let size = (MemoryLayout<T>.stride + 127) & ~127
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 128).bindMemory(to: T.self, capacity: 1)
    }

    deinit {
        producer.deinitialize(count: 1)
        producer.deallocate()
        consumer.deinitialize(count: 1)
        consumer.deallocate()
        batch.deinitialize(count: 1)
        batch.deallocate()
        // Reached with a frame still held only when the IO thread stopped before the handler
        // released it: the frame keeps the delivery state and the mapping it points into.
        if delivery.pointee.leaveMemoryToHeldFrames() {
            _ = Unmanaged.passRetained(region)
        } else {
            delivery.deinitialize(count: 1)
            delivery.deallocate()
        }
        // Closed last: a sender that reserved before the close may still signal it at commit.
        Glibc.close(descriptors.peerWake)
    }

    public var isClosed: Bool { state.load(ordering: .relaxed) != State.open.rawValue }

    /// True when `pointer` lies in the shared mapping (zero-copy proof for tests).
    public func isInSharedMemory(_ pointer: UnsafeRawPointer) -> Bool { region.contains(pointer) }

    /// Registers with the IO thread; call on that thread. From here on the connection owns its
    /// descriptors: a failure closes them (and the handler is not told: it never started).
    func start() throws(SystemError) {
        let registration = ioThread.register(self, pollsMemory: true)
        self.registration = registration
        do {
            try ioThread.watch(
                descriptors.ownWake, events: .readable, for: registration, token: Token.wake, pollWhileSpinning: false)
            try ioThread.watch(
                descriptors.peerProcess, events: .readable, for: registration, token: Token.peerProcess,
                pollWhileSpinning: false)
            try ioThread.watch(
                descriptors.socket, events: [.readable, .peerHangup], for: registration, token: Token.socket,
                pollWhileSpinning: false)
        } catch {
            finished = true
            state.store(State.closed.rawValue, ordering: .releasing)
            for descriptor in [descriptors.ownWake, descriptors.peerProcess, descriptors.socket] {
                ioThread.unwatch(descriptor, pollWhileSpinning: false)
                Glibc.close(descriptor)
            }
            _ = endLingering()
            throw error
        }
        if !liveness.isOff {
            ioThread.startTicking(registration, every: liveness.tickPeriod)
            liveness.heard(at: ioThread.now)
            liveness.sent(at: ioThread.now)
            peerHeartbeatsSeen = cweft_load_acquire_u64(peerHeartbeats)
        }
    }

    /// Closes the descriptors of a connection whose `start` never ran (its IO thread had
    /// stopped); no other thread can reach it then.
    func discardIfNeverStarted() {
        guard registration == nil, !finished else { return }
        finished = true
        state.store(State.closed.rawValue, ordering: .releasing)
        for descriptor in [descriptors.ownWake, descriptors.peerProcess, descriptors.socket] { Glibc.close(descriptor) }
    }

    /// Heartbeats through the control page (a store, no frame and no system call) and the
    /// idle time-out: a peer whose count stops moving is hung or stopped (IO thread).
    public func tick(now: UInt64) {
        guard !finished else { return }
        let beats = cweft_load_acquire_u64(peerHeartbeats)
        if beats != peerHeartbeatsSeen {
            peerHeartbeatsSeen = beats
            liveness.heard(at: now)
        }
        switch liveness.check(now: now) {
        case .none:
            break
        case .sendHeartbeat:
            cweft_store_release_u64(ownHeartbeats, cweft_load_acquire_u64(ownHeartbeats) &+ 1)
        case .peerLost(let silence):
            let reason = liveness.lostReason(silentFor: silence)
            logger.notice("shared-memory connection \(id) from \(peer) lost: \(reason)")
            peerGone(reason)
        }
    }

    private enum Token {
        static let wake: UInt32 = 1
        static let peerProcess: UInt32 = 2
        static let socket: UInt32 = 3
    }

    // MARK: Sending

    public func reserve(capacity: Int) throws(TransportError) -> SendReservation {
        guard capacity <= maxReservation else { throw .messageTooLarge(size: capacity, limit: maxReservation) }
        guard state.load(ordering: .relaxed) == State.open.rawValue else { throw .closed(reason: "connection \(id) is closed") }
        sendLock?.lock()
        guard let (frame, position) = producer.pointee.reserve(capacity: capacity) else {
            sendLock?.unlock()
            throw .wouldBlock
        }
        return SendReservation(frame: frame, capacity: capacity, token: position, hooks: reservationHooks)
    }

    /// Records for `frames` frames of up to `capacity` payload bytes, in one run of the ring (at
    /// most a quarter of it), published by one `commit`: one tail update and, when the peer
    /// may sleep, one wake-up check for the whole batch.
    public func reserveBatch(frames: Int, capacity: Int) throws(TransportError) -> SendBatch {
        guard capacity <= maxReservation else { throw .messageTooLarge(size: capacity, limit: maxReservation) }
        guard state.load(ordering: .relaxed) == State.open.rawValue else { throw .closed(reason: "connection \(id) is closed") }
        let record = SharedMemoryLayout.recordSize(payload: capacity)
        let quarter = producer.pointee.ring.size / 4
        var bytes = UInt64(min(max(1, frames), Int(quarter))) * record
        if bytes > quarter { bytes = max(record, quarter / record * record) }
        sendLock?.lock()
        guard let (start, position) = producer.pointee.reserveRecords(bytes: bytes) else {
            sendLock?.unlock()
            throw .wouldBlock
        }
        return SendBatch(
            start: start, room: Int(bytes), capacity: capacity, token: position, hooks: reservationHooks,
            layout: batchLayout)
    }

    private var batchLayout: SendBatch.Layout {
        SendBatch.Layout(recordPrefix: SharedMemoryLayout.tagSize, recordAlignment: Int(SharedMemoryLayout.recordAlignment)) {
            context, _, token, bytes in
            Unmanaged<SharedMemoryConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
                $0.commitBatch(token: token, bytes: bytes)
            }
        }
    }

    func commitBatch(token: UInt64, bytes: Int) {
        producer.pointee.publishRecords(position: token, bytes: bytes)
        sendLock?.unlock()
    }

    /// The reservation's way back here, with no reference counting (see `ReservationHooks`).
    var reservationHooks: ReservationHooks {
        ReservationHooks(
            context: Unmanaged.passUnretained(self).toOpaque(),
            commit: { context, frame, token, length in
                Unmanaged<SharedMemoryConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.commitReservation(frame: frame, token: token, payloadLength: length)
                }
            },
            abandon: { context, token in
                Unmanaged<SharedMemoryConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.abandonReservation(token: token)
                }
            })
    }

    func commitReservation(frame: UnsafeMutableRawPointer, token: UInt64, payloadLength: UInt32) {
        producer.pointee.publish(position: token, payloadLength: Int(payloadLength))
        sendLock?.unlock()
    }

    func abandonReservation(token: UInt64) {
        producer.pointee.abandon(position: token)
        sendLock?.unlock()
    }

    /// Rings publish at commit; nothing is coalesced.
    public func flush() {}

    // MARK: Receiving (IO thread)

    public func poll() -> Int {
        if consumer.pointee.mayBeHolding {
            switch delivery.pointee.resume() {
            case .blocked: return 0
            case .released(let end): consumer.pointee.consume(upTo: end)
            case .ready: break
            }
            consumer.pointee.mayBeHolding = false
        }
        if finished { return endLingering() }
        var work = 0
        loop: while work < 256 {
            switch consumer.pointee.peek(limits: limits) {
            case .empty:
                break loop
            case .malformed(let error):
                // What came before the bad record was accepted: it is delivered first.
                if batch.pointee.count > 0 { deliverBatch() }
                if isOpen { fail(.protocolViolation(error)) }
                return work + 1
            case .frame(let frame, let header, let end):
                work += 1
                if batchHandler != nil, header.kind == .data, !header.flags.contains(.fragment) {
                    // Closed from another thread: deliver no more, as on the one-frame path.
                    if !isOpen { break loop }
                    if batch.pointee.count == 0 { batchStart = consumer.pointee.head }
                    batch.pointee.append(header, payload: frame + FrameLayout.headerSize)
                    consumer.pointee.skip(to: end)
                    if batch.pointee.isFull {
                        deliverBatch()
                        if !isOpen { break loop }
                    }
                    continue
                }
                if batch.pointee.count > 0 {
                    deliverBatch()
                    if !isOpen { break loop }
                }
                switch delivery.pointee.deliver(header, payload: frame + FrameLayout.headerSize, end: end, to: handler, on: self)
                {
                case .next:
                    consumer.pointee.consume(upTo: end)
                    if !isOpen { break loop }
                case .held:
                    consumer.pointee.mayBeHolding = true
                    break loop
                case .nextThenPause:
                    consumer.pointee.consume(upTo: end)
                    consumer.pointee.mayBeHolding = true
                    break loop
                case .close:
                    consumer.pointee.consume(upTo: end)
                    consumer.pointee.publishHead()
                    finish(error: nil, notifyPeer: false)
                    return work
                case .violation(let error):
                    fail(.protocolViolation(error))
                    return work
                }
            }
        }
        if batch.pointee.count > 0 { deliverBatch() }
        consumer.pointee.publishHead()
        return work
    }

    /// Hands the gathered data frames to the handler in one call, then frees their records.
    private func deliverBatch() {
        let frames = batch.pointee.count
        batch.pointee.deliver(to: batchHandler!, on: self)
        consumer.pointee.consumeBatch(from: batchStart, frames: frames)
    }

    private var isOpen: Bool { state.load(ordering: .relaxed) == State.open.rawValue }

    public func descriptorReady(token: UInt32, events: UInt32) {
        // Events of the same batch may follow the teardown, for descriptors closed since.
        guard !finished else { return }
        switch token {
        case Token.wake:
            SharedMemorySyscalls.drain(descriptors.ownWake)
        case Token.peerProcess:
            peerGone("peer process \(peer.processID ?? 0) exited")
        default:
            var byte: UInt8 = 0
            let n = recv(descriptors.socket, &byte, 1, Int32(MSG_DONTWAIT))
            if n == 0 || (n < 0 && errno != EAGAIN) {
                peerGone("peer closed its setup socket")
            } else if n > 0 {
                fail(.protocolViolation(.malformedPayload("unexpected message on the setup socket")))
            }
        }
    }

    /// The IO loop calls `poll()` through this, with no reference counting.
    package var pollHook: PollHook? {
        PollHook(context: Unmanaged.passUnretained(self).toOpaque()) { context in
            Unmanaged<SharedMemoryConnection>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.poll() }
        }
    }

    package func prepareToSleep() -> SleepReadiness {
        if delivery.pointee.isHolding { return .pollAgain(milliseconds: 1) }
        consumer.pointee.setSleeping(true)
        // The producer may be checking `sleeping` without a fence: this barrier runs one on
        // its CPU, between our store above and the re-check below.
        if ownWakeProtocol == .consumerBarrier && !GlobalMembarrier.barrier() {
            // Refused (it passed its probe at start): without it the flag cannot be trusted,
            // so this ring is looked at again in a millisecond instead of waiting for a signal.
            consumer.pointee.setSleeping(false)
            return consumer.pointee.hasWork() ? .busy : .pollAgain(milliseconds: 1)
        }
        if consumer.pointee.hasWork() {
            consumer.pointee.setSleeping(false)
            return .busy
        }
        return .armed
    }

    public func didWake() { consumer.pointee.setSleeping(false) }

    // MARK: Closing

    /// Sends a close frame after everything committed so far, then tears down. The frame is
    /// written on the IO thread: on a single-sender connection the handler's replies are
    /// written there, and the close frame must not race them for the ring. The teardown is
    /// always a job of its own, never inside a handler's `received` (which may be what
    /// called `close`, with its frame not yet counted as held).
    public func close() {
        guard
            state.compareExchange(
                expected: State.open.rawValue, desired: State.closing.rawValue, ordering: .acquiringAndReleasing
            ).exchanged
        else { return }
        let frameWritten = ioThread.isCurrent
        if frameWritten { sendCloseFrame(reason: nil) }
        ioThread.execute { [self] in
            guard !finished else { return }
            if !frameWritten { sendCloseFrame(reason: nil) }
            finish(error: nil, notifyPeer: false)
        }
    }

    /// The peer's process or socket went away: deliver what it committed, then report.
    private func peerGone(_ why: String) {
        guard !finished else { return }
        while isOpen && !delivery.pointee.isHolding && poll() > 0 {}
        if !finished { finish(error: .peerLost(why), notifyPeer: false) }
    }

    private func fail(_ error: TransportError) {
        logger.warning("closing shared-memory connection \(id) from \(peer): \(error)")
        finish(error: error, notifyPeer: true)
    }

    private func sendCloseFrame(reason: String?) {
        let text = Array((reason ?? "").utf8.prefix(256))
        sendLock?.lock()
        defer { sendLock?.unlock() }
        guard let (frame, position) = producer.pointee.reserve(capacity: text.count) else { return }
        text.withUnsafeBytes { bytes in
            if !bytes.isEmpty { (frame + FrameLayout.headerSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        }
        FrameHeader(kind: .close, payloadLength: UInt32(text.count)).encode(to: frame)
        producer.pointee.publish(position: position, payloadLength: text.count)
    }

    /// Tears down on the IO thread; the handler hears `closed` exactly once.
    ///
    /// Ownership: a `ReceivedFrame` points into the ring and at the delivery's release cursor
    /// without a reference. While the handler holds one, the connection stays registered
    /// (the IO thread's reference keeps it alive) and `poll` waits for the release; only then
    /// does it deregister and let the shared pages go. No per-frame cost: a held frame already
    /// pauses delivery.
    private func finish(error: TransportError?, notifyPeer: Bool) {
        guard !finished, let registration else { return }
        finished = true
        // The reason travels in a close frame only where the send side has a lock to take:
        // on a single-sender connection the application's thread owns the producer, and the
        // peer learns of the close from the setup socket instead.
        if notifyPeer, sendLock != nil, state.load(ordering: .relaxed) == State.open.rawValue {
            sendCloseFrame(reason: error.map { "\($0)" })
        }
        state.store(State.closed.rawValue, ordering: .releasing)
        ioThread.unwatch(descriptors.ownWake, pollWhileSpinning: false)
        ioThread.unwatch(descriptors.peerProcess, pollWhileSpinning: false)
        ioThread.unwatch(descriptors.socket, pollWhileSpinning: false)
        ioThread.stopTicking(registration)
        Glibc.close(descriptors.socket)
        Glibc.close(descriptors.ownWake)
        Glibc.close(descriptors.peerProcess)
        quotaPlace = nil
        handler.closed(self, error: error)
        // The next `poll` lets the pages go once no frame is held: not here, since this may
        // run inside `received` (the handler closing), before its frame counts as held.
    }

    /// The last held frame is released (or none was): stop polling and let the shared pages
    /// go. The addresses stay valid (private pages) until the connection itself goes, so a
    /// sender that reserved before the close never touches unmapped memory.
    private func endLingering() -> Int {
        guard let registration else { return 0 }
        self.registration = nil
        ioThread.deregister(registration)
        region.detach()
        return 1
    }
}

extension SharedMemoryConnection {
    /// Puts `bytes` into the ring as one record, exactly as given (malformed-frame tests).
    func injectRawFrame(_ bytes: [UInt8]) throws(TransportError) {
        let payloadLength = bytes.count - FrameLayout.headerSize
        sendLock?.lock()
        defer { sendLock?.unlock() }
        guard let (frame, position) = producer.pointee.reserve(capacity: payloadLength) else { throw .wouldBlock }
        bytes.withUnsafeBytes { frame.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        producer.pointee.publish(position: position, payloadLength: payloadLength)
    }
}
