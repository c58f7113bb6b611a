import Logging
import WeftConformance
import WeftCore
import WeftTransports

#if canImport(Glibc)
    import Glibc
#endif

// weft-conformance: runs every check of the conformance suite against one transport, for
// places `swift test` cannot go (the kernel lab's guests). Prints `ok - CHECK` or
// `not ok - CHECK: why` per check, then `conformance: N passed, N failed`; exits 1 on any failure.
//
// usage: weft-conformance --transport tipc [--check NAME]... [--fault drop-frames]
//   --fault drop-frames  wraps the transport so that receivers lose every 50th frame:
//                        the suite must then fail (proof that it can).

var transportName: String?
var only: [String] = []
var dropFrames = false
var arguments = CommandLine.arguments.dropFirst()
func usage(_ why: String) -> Never {
    print("weft-conformance: \(why)\nusage: weft-conformance --transport tipc [--check NAME]... [--fault drop-frames]")
    exit(2)
}
while let argument = arguments.popFirst() {
    switch argument {
    case "--transport":
        guard let name = arguments.popFirst() else { usage("--transport needs a name") }
        transportName = name
    case "--check":
        guard let name = arguments.popFirst() else { usage("--check needs a name") }
        only.append(name)
    case "--fault":
        guard arguments.popFirst() == "drop-frames" else { usage("the only fault is drop-frames") }
        dropFrames = true
    default: usage("unknown argument \(argument)")
    }
}
guard let transportName else { usage("give --transport") }
guard let base = ConformanceSubjects.subject(named: transportName) else {
    usage("no conformance subject for '\(transportName)' (have: \(ConformanceSubjects.names.joined(separator: ", ")))")
}
let subject: any ConformanceSubject = dropFrames ? FrameDroppingSubject(base: base) : base
let checks = ConformanceCheck.allCases.filter { only.isEmpty || only.contains($0.rawValue) }
guard !checks.isEmpty else { usage("no check named \(only.joined(separator: ", "))") }

var passed = 0
var failed = 0
for check in checks {
    let started = ContinuousClock.now
    do {
        try check.run(against: subject)
        passed += 1
        print("ok - \(subject) \(check) (\(ContinuousClock.now - started))")
    } catch {
        failed += 1
        print("not ok - \(subject) \(check): \(error)")
    }
}
print("conformance: \(passed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
