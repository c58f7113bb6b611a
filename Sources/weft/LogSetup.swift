import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// swift-log to stderr at the configured level; once per process.
enum LogSetup {
    static func bootstrap(level: String) {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
    }
}

func getProcessID() -> Int32 { getpid() }
