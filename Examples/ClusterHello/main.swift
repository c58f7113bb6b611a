import Logging
import WeftActors
import WeftCore
import WeftTransports

#if canImport(Glibc)
    import Glibc
#endif

// cluster-hello: a Weft actor node that finds the others by itself (the transport's
// discovery: TIPC's topology server), greets every other member through a virtual actor
// placed on it, and prints what they answer. No member list, no seed.
//
// usage: cluster-hello --listen ADDRESS --members N [--watch NAME] [--timeout S] [config flags: --transport tipc --secret-file F …]
//   --members N   wait until N members (this one included) are known, then greet the others
//   --watch NAME  then keep a call to NAME in flight, and exit 0 once NAME is gone: the call
//                 failed and membership dropped it (prints both, with their delays)
//   otherwise     keep serving until killed or --timeout

/// One line straight to stdout (no stdio buffer to lose when the process is killed).
func say(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}

func fail(_ text: String) -> Never {
    say("cluster-hello: \(text)")
    exit(1)
}

var flags: [String: String] = [:]
var listen: String?
var expected = 2
var watch: String?
var timeout = 120
let keys = Dictionary(uniqueKeysWithValues: ConfigKeys.all.map { ($0.flag, $0.key) })
var rest = CommandLine.arguments.dropFirst()
while let argument = rest.popFirst() {
    guard let value = rest.popFirst() else { fail("\(argument) needs a value") }
    switch argument {
    case "--listen": listen = value
    case "--members": expected = Int(value) ?? 0
    case "--watch": watch = value
    case "--timeout": timeout = Int(value) ?? 120
    default:
        guard let key = keys[argument] else { fail("unknown option \(argument)") }
        flags[key] = value
    }
}
guard let listen, expected >= 1 else { fail("give --listen ADDRESS and --members N") }
alarm(UInt32(timeout))

let configuration: WeftConfiguration
let descriptor: TransportDescriptor
do {
    var environment: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let equals = text.firstIndex(of: "=") {
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        entry += 1
    }
    let loader = try await ConfigurationLoader.load(flags: flags, environment: environment)
    configuration = try WeftConfiguration(loader)
    descriptor = try TransportRegistry.builtIn.resolve(name: configuration.transport, configuration: configuration)
} catch {
    fail("\(error)")
}

var logger = Logger(label: "cluster-hello")
logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
let system: WeftActorSystem
let membershipProvider: DiscoveryMembership
do {
    let runtime = try IORuntime(
        threadCount: configuration.ioThreads, progress: configuration.progress, spinWindow: configuration.spinWindow,
        name: "hello")
    let context = TransportContext(
        runtime: runtime, node: configuration.nodeIdentity, limits: configuration.limits, logger: logger,
        connectTimeout: configuration.connectTimeout)
    let transport = try descriptor.make(context, configuration)
    guard let provider = DiscoveryMembership(transport: transport) else {
        fail("the \(descriptor.name) transport cannot discover its peers (tipc can)")
    }
    membershipProvider = provider
    system = try WeftActorSystem(
        WeftActorSystemConfiguration(node: listen, membership: Membership([listen: listen]), callTimeout: .seconds(60)),
        transport: transport, logger: logger)
    Greeter.register(on: system)
    try await provider.start(on: system)
} catch {
    fail("\(error)")
}
say("listening on \(listen)")

while system.membership.liveMembers.count < expected {
    try? await Task.sleep(for: .milliseconds(50))
}
let others = system.membership.liveMembers.filter { $0 != listen }
say("members: \(system.membership.liveMembers.joined(separator: " "))")
for member in others {
    do {
        let reply = try await system.actor(Greeter.self, key: member).hello(from: listen)
        guard reply.hasSuffix("from \(member)") else { fail("\(member) answered from the wrong node: \(reply)") }
        say("called \(member): \(reply)")
    } catch {
        fail("calling \(member) failed: \(error)")
    }
}
say("greeted \(others.count) members")

guard let watch else {
    // Serve the others until killed or --timeout (SIGALRM).
    while true { try? await Task.sleep(for: .seconds(1)) }
}

let started = ContinuousClock.now
let call = Task { () -> Duration? in
    do {
        _ = try await system.actor(Greeter.self, key: watch).hold(milliseconds: 60_000)
        return nil
    } catch {
        say("call in flight to \(watch) failed: \(error)")
        return ContinuousClock.now - started
    }
}
say("call in flight to \(watch)")
var downAt: Duration?
while downAt == nil {
    if system.membership.address(of: watch) == nil {
        downAt = ContinuousClock.now - started
        say("membership dropped \(watch)")
    }
    try? await Task.sleep(for: .milliseconds(10))
}
guard let failedAt = await call.value else { fail("the call to \(watch) returned instead of failing") }
let gap = failedAt > downAt! ? failedAt - downAt! : downAt! - failedAt
say("down: membership \(downAt!), failed call \(failedAt), apart \(gap)")
system.shutdown()
exit(gap <= .seconds(2) ? 0 : 1)
