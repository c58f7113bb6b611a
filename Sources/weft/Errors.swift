import ArgumentParser
import WeftCore

/// Failures of a command run (not of the configuration), each one sentence.
enum CommandFailure: Error, CustomStringConvertible {
    /// The peer process ended or failed before the run finished.
    case peerFailed(String)
    /// The run did not finish in time.
    case timedOut(String)
    /// The run was interrupted (SIGINT or SIGTERM).
    case interrupted
    /// The options do not fit together or do not fit this transport.
    case usage(String)
    /// The run went wrong (a connection closed early, a reply was wrong).
    case failed(String)

    var description: String {
        switch self {
        case .peerFailed(let why): return "the peer failed: \(why)"
        case .timedOut(let what): return "timed out: \(what)"
        case .interrupted: return "interrupted"
        case .usage(let why): return why
        case .failed(let why): return why
        }
    }
}

/// Exit status 2: the configuration or the transport is the problem (fix a flag, a file,
/// the machine). Exit status 1: the run itself failed (peer died, time ran out).
enum ExitStatus {
    static let configuration: Int32 = 2
    static let runFailed: Int32 = 1
}

/// Runs a command body, turning Weft's errors into `weft: <one sentence>` on stderr and an
/// exit status instead of a stack trace or ArgumentParser's "Error:" line.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ConfigurationError {
        throw failure(error.description, status: ExitStatus.configuration)
    } catch let error as TransportError {
        throw failure(error.description, status: ExitStatus.configuration)
    } catch let error as SystemError {
        throw failure(error.description, status: ExitStatus.configuration)
    } catch let error as PlacementError {
        throw failure(error.description, status: ExitStatus.configuration)
    } catch let error as CommandFailure {
        throw failure(error.description, status: error.isUsage ? ExitStatus.configuration : ExitStatus.runFailed)
    }
}

extension CommandFailure {
    var isUsage: Bool {
        if case .usage = self { return true }
        return false
    }
}

/// Prints the sentence and returns the exit code for ArgumentParser to exit with quietly.
private func failure(_ sentence: String, status: Int32) -> ExitCode {
    Output.error("weft: \(sentence)")
    return ExitCode(status)
}
