import Foundation
import WeftCore

/// What the run used and how busy the machine was: busy-polling collapses when another
/// process takes a core, so a figure from a loaded machine says so.
enum MachineReport {
    static func header(_ options: BenchOptions) -> String {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let processes = options.processes == 1 ? "one process" : "caller and callee in two processes"
        return """
            weft-actor-bench: \(cores) cores online; used 2: \(processes) over \(options.transport), caller IO thread \
            pinned to CPU 0, callee IO thread pinned to CPU 1, progress \(options.progress.rawValue); Swift's global \
            executor shares the same cores.
            """ + "\n" + loadLine(prefix: "load average before the run")
    }

    static func loadLine(prefix: String) -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        let fields = text.split(separator: " ").prefix(3)
        var line = "\(prefix): \(fields.joined(separator: " "))"
        if let first = fields.first, let load = Double(first), load > 0.5 {
            line += " (HIGH: something else is running; busy-polling figures are not trustworthy)"
        }
        return line
    }
}
