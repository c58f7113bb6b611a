import Logging
import Synchronization
import WeftCore

/// One end of an in-process connection: a ring to send on, a ring to receive from, both in
/// memory this module owns. The receiving side runs on this end's IO thread.
public final class LocalConnection: TransportConnection, IOSource, @unchecked Sendable {
    public let id: ConnectionID
    public let peer: PeerInfo
    public let maxReservation: Int
    public var maxMessageSize: Int { Int(limits.maxMessage) }
    public let ioThread: IOThread
    public let largeMessageLock = SendSideLock()

    private let sendRing: LocalRing
    private let receiveRing: LocalRing
    private let limits: FrameLimits
    private let handler: any ConnectionHandler
    private let logger: Logger
    /// Always present: `close` may come from any thread while a sender holds a reservation.
    private let sendLock = SendSideLock()

    // IO-thread state.
    private var registration: IORegistration?
    private var readHead: UInt64 = 0
    private var delivery: InOrderDelivery

    private let state = Atomic<UInt8>(State.open.rawValue)
    private enum State: UInt8 { case open, closing, closed }

    init(
        id: ConnectionID, peer: PeerInfo, send: LocalRing, receive: LocalRing, thread: IOThread,
        context: TransportContext, options: ConnectionOptions, handler: any ConnectionHandler
    ) {
        self.id = id
        self.peer = peer
        sendRing = send
        receiveRing = receive
        ioThread = thread
        limits = context.limits
        self.handler = handler
        logger = context.logger
        maxReservation = min(send.maxPayload, peer.maxFramePayload)
        delivery = InOrderDelivery(limits: context.limits, reassembly: context.reassembly)
    }

    public var isClosed: Bool { state.load(ordering: .relaxed) != State.open.rawValue }

    /// True when `pointer` lies in this end's receive ring (zero-copy proof for tests).
    public func isInReceiveRing(_ pointer: UnsafeRawPointer) -> Bool {
        let base = UnsafeRawPointer(receiveRing.data)
        return pointer >= base && pointer < base + receiveRing.size
    }

    /// Registers with the IO thread; runs on that thread.
    func start() {
        guard registration == nil, state.load(ordering: .relaxed) != State.closed.rawValue else { return }
        registration = ioThread.register(self, pollsMemory: true)
    }

    // MARK: Sending

    public func reserve(capacity: Int) throws(TransportError) -> SendReservation {
        guard capacity <= maxReservation else { throw .messageTooLarge(size: capacity, limit: maxReservation) }
        sendLock.lock()
        guard state.load(ordering: .relaxed) == State.open.rawValue else {
            sendLock.unlock()
            throw .closed(reason: "connection \(id) is closed")
        }
        guard let (frame, position) = sendRing.reserve(capacity: capacity) else {
            sendLock.unlock()
            throw .wouldBlock
        }
        return SendReservation(frame: frame, capacity: capacity, token: position, hooks: reservationHooks)
    }

    /// The reservation's way back here, with no reference counting (see `ReservationHooks`).
    var reservationHooks: ReservationHooks {
        ReservationHooks(
            context: Unmanaged.passUnretained(self).toOpaque(),
            commit: { context, frame, token, length in
                Unmanaged<LocalConnection>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.commitReservation(frame: frame, token: token, payloadLength: length)
                }
            },
            abandon: { context, token in
                Unmanaged<LocalConnection>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.abandonReservation(token: token) }
            })
    }

    func commitReservation(frame: UnsafeMutableRawPointer, token: UInt64, payloadLength: UInt32) {
        sendRing.publish(position: token, payloadLength: Int(payloadLength))
        sendLock.unlock()
    }

    func abandonReservation(token: UInt64) { sendLock.unlock() }

    /// Records publish at commit; nothing is coalesced.
    public func flush() {}

    // MARK: Receiving (IO thread)

    public func poll() -> Int {
        switch delivery.resume() {
        case .blocked: return 0
        case .released(let end): consume(upTo: end)
        case .ready: break
        }
        var work = 0
        while work < 256, registration != nil {
            let tail = receiveRing.tail.load(ordering: .acquiring)
            guard readHead != tail else { break }
            let record = receiveRing.data + Int(readHead & receiveRing.mask)
            let word = record.load(as: UInt64.self)
            work += 1
            if word & LocalRing.paddingBit != 0 {
                consume(upTo: readHead &+ (word & ~LocalRing.paddingBit))
                continue
            }
            if !deliver(record: record, length: Int(word), end: readHead &+ word) { break }
        }
        return work
    }

    private func consume(upTo position: UInt64) {
        readHead = position
        receiveRing.head.store(position, ordering: .releasing)
    }

    /// Handles one record; false when the connection must stop delivering for now.
    private func deliver(record: UnsafeMutableRawPointer, length: Int, end: UInt64) -> Bool {
        let frame = UnsafeRawPointer(record + LocalRing.lengthWordSize)
        let header: FrameHeader
        switch FrameHeader.decode(from: frame, limits: limits) {
        case .failure(let error):
            fail(.protocolViolation(error))
            return false
        case .success(let decoded): header = decoded
        }
        let room = length - LocalRing.lengthWordSize - FrameLayout.headerSize
        guard Int(header.payloadLength) <= room else {
            fail(.protocolViolation(.truncated(have: room, need: Int(header.payloadLength))))
            return false
        }
        let payload = frame + FrameLayout.headerSize
        switch delivery.deliver(header, payload: payload, end: end, to: handler, on: self) {
        case .next:
            consume(upTo: end)
            return isOpen
        case .held:
            return false
        case .nextThenPause:
            consume(upTo: end)
            return false
        case .close:
            consume(upTo: end)
            finish(error: nil, notifyPeer: false)
            return false
        case .violation(let error):
            fail(.protocolViolation(error))
            return false
        }
    }

    private var isOpen: Bool { state.load(ordering: .relaxed) == State.open.rawValue }

    package func prepareToSleep() -> SleepReadiness {
        if delivery.isHolding { return .pollAgain(milliseconds: 1) }
        receiveRing.consumerSleeping.store(true, ordering: .sequentiallyConsistent)
        if receiveRing.tail.load(ordering: .sequentiallyConsistent) != readHead {
            receiveRing.consumerSleeping.store(false, ordering: .sequentiallyConsistent)
            return .busy
        }
        return .armed
    }

    public func didWake() { receiveRing.consumerSleeping.store(false, ordering: .sequentiallyConsistent) }

    // MARK: Closing

    /// Sends a close frame after everything committed so far, then tears down.
    public func close() {
        sendLock.lock()
        let wasOpen = state.compareExchange(
            expected: State.open.rawValue, desired: State.closing.rawValue, ordering: .acquiringAndReleasing
        ).exchanged
        if wasOpen { publishClose(reason: nil) }
        sendLock.unlock()
        if wasOpen { ioThread.execute { [self] in finish(error: nil, notifyPeer: false) } }
    }

    private func fail(_ error: TransportError) {
        logger.warning("closing local connection \(id) from \(peer): \(error)")
        finish(error: error, notifyPeer: true)
    }

    /// Call with `sendLock` held. Best effort: a full ring drops the close frame.
    private func publishClose(reason: String?) {
        let text = Array((reason ?? "").utf8.prefix(256))
        guard let (frame, position) = sendRing.reserve(capacity: text.count) else { return }
        text.withUnsafeBytes { bytes in
            if !bytes.isEmpty { (frame + FrameLayout.headerSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        }
        FrameHeader(kind: .close, payloadLength: UInt32(text.count)).encode(to: frame)
        sendRing.publish(position: position, payloadLength: text.count)
    }

    /// Tears down on the IO thread; the handler hears `closed` exactly once.
    private func finish(error: TransportError?, notifyPeer: Bool) {
        guard let registration else { return }
        self.registration = nil
        sendLock.lock()
        if notifyPeer, state.load(ordering: .relaxed) == State.open.rawValue { publishClose(reason: error.map { "\($0)" }) }
        state.store(State.closed.rawValue, ordering: .releasing)
        sendLock.unlock()
        ioThread.deregister(registration)
        handler.closed(self, error: error)
    }
}

extension LocalConnection {
    /// Puts `bytes` into the ring as one record, exactly as given (malformed-frame tests).
    func injectRawFrame(_ bytes: [UInt8]) throws(TransportError) {
        let payloadLength = bytes.count - FrameLayout.headerSize
        sendLock.lock()
        defer { sendLock.unlock() }
        guard let (frame, position) = sendRing.reserve(capacity: payloadLength) else { throw .wouldBlock }
        bytes.withUnsafeBytes { frame.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        sendRing.publish(position: position, payloadLength: payloadLength)
    }
}
