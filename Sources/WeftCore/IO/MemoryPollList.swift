/// A memory-polled source's poll entry point: a C function and an unretained context, so
/// the IO loop calls it with no reference counting and no witness-table lookup.
package struct PollHook: @unchecked Sendable {
    public let context: UnsafeMutableRawPointer
    public let poll: @convention(c) (UnsafeMutableRawPointer) -> Int

    public init(context: UnsafeMutableRawPointer, poll: @convention(c) (UnsafeMutableRawPointer) -> Int) {
        self.context = context
        self.poll = poll
    }
}

/// The IO thread's list of poll hooks, kept behind a pointer so that the loop's accesses
/// need no dynamic exclusivity checks. Sources may be added or removed while a pass runs.
struct MemoryPollList {
    private var hooks: UnsafeMutablePointer<PollHook>
    private var capacity: Int
    private(set) var count = 0
    private var isPolling = false
    private var removedDuringPass: [UnsafeMutableRawPointer] = []

    init() {
        capacity = 8
        hooks = .allocate(capacity: capacity)
    }

    mutating func append(_ hook: PollHook) {
        if count == capacity {
            let grown = UnsafeMutablePointer<PollHook>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: hooks, count: count)
            hooks.deallocate()
            hooks = grown
            capacity *= 2
        }
        (hooks + count).initialize(to: hook)
        count += 1
    }

    mutating func remove(context: UnsafeMutableRawPointer) {
        if isPolling {
            removedDuringPass.append(context)
            return
        }
        var index = 0
        while index < count {
            if hooks[index].context == context {
                (hooks + index).moveInitialize(from: hooks + index + 1, count: count - index - 1)
                count -= 1
            } else {
                index += 1
            }
        }
    }

    /// One pass over every hook; hooks removed meanwhile go after the pass.
    @inline(__always)
    static func pollAll(_ list: UnsafeMutablePointer<MemoryPollList>) -> Int {
        list.pointee.isPolling = true
        var work = 0
        var index = 0
        while index < list.pointee.count {
            let hook = list.pointee.hooks[index]
            work &+= hook.poll(hook.context)
            index += 1
        }
        list.pointee.isPolling = false
        if !list.pointee.removedDuringPass.isEmpty {
            let removed = list.pointee.removedDuringPass
            list.pointee.removedDuringPass.removeAll()
            for context in removed { list.pointee.remove(context: context) }
        }
        return work
    }

    func deallocate() {
        hooks.deinitialize(count: count)
        hooks.deallocate()
    }
}

/// Holds a source that has no hook of its own and calls it through its protocol.
final class ProtocolPollBox {
    let source: IOSource
    init(_ source: IOSource) { self.source = source }

    var hook: PollHook {
        PollHook(context: Unmanaged.passUnretained(self).toOpaque()) { context in
            Unmanaged<ProtocolPollBox>.fromOpaque(context).takeUnretainedValue().source.poll()
        }
    }
}
