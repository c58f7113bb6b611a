import Foundation
import Testing

@testable import WeftCore

/// flag > WEFT_* environment > config file > default, through the real providers, with
/// real YAML and JSON files; and a bad value is one sentence naming its key.
struct ConfigurationPrecedenceTests {
    enum Format: String, CaseIterable { case yaml, json }

    /// A config file setting five keys, one of them nested (`shm.ring-bytes`).
    private func writeConfigFile(_ format: Format, body: String? = nil) throws -> String {
        let path = NSTemporaryDirectory() + "weft-precedence-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).\(format.rawValue)"
        let text: String
        switch format {
        case .yaml:
            text =
                body ?? """
                    progress: sleep
                    io-threads: 3
                    spin-window-us: 7
                    log-level: debug
                    shm:
                      ring-bytes: 131072

                    """
        case .json:
            text =
                body ?? """
                    {"progress": "sleep", "io-threads": 3, "spin-window-us": 7, "log-level": "debug",
                     "shm": {"ring-bytes": 131072}}
                    """
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func configuration(
        flags: [String: String] = [:], environment: [String: String] = [:], file: String? = nil
    ) async throws -> WeftConfiguration {
        try WeftConfiguration(await ConfigurationLoader.load(flags: flags, environment: environment, configFile: file))
    }

    @Test(arguments: Format.allCases)
    func flagBeatsEnvironmentBeatsFileBeatsDefault(format: Format) async throws {
        let file = try writeConfigFile(format)
        defer { unlink(file) }
        let environment = ["WEFT_PROGRESS": "spin", "WEFT_IO_THREADS": "2", "WEFT_SHM_RING_BYTES": "262144"]
        let flags = ["progress": "adaptive", "shm.ring-bytes": "524288"]

        let all = try await configuration(flags: flags, environment: environment, file: file)
        #expect(all.progress == .adaptive)  // flag over environment and file
        #expect(all.shmRingBytes == 524_288)  // flag over environment and file, nested key
        #expect(all.ioThreads == 2)  // environment over file
        #expect(all.spinWindow == .microseconds(7))  // file over default
        #expect(all.logLevel == "debug")  // file over default
        #expect(all.connectTimeout == .milliseconds(5000))  // default
        #expect(all.transport == "auto")  // default

        let noFlags = try await configuration(environment: environment, file: file)
        #expect(noFlags.progress == .spin)
        #expect(noFlags.shmRingBytes == 262_144)

        let fileOnly = try await configuration(file: file)
        #expect(fileOnly.progress == .sleep)
        #expect(fileOnly.ioThreads == 3)
        #expect(fileOnly.shmRingBytes == 131_072)

        let defaults = try await configuration()
        #expect(defaults.progress == .adaptive)
        #expect(defaults.ioThreads == 1)
        #expect(defaults.shmRingBytes == 1 << 20)
        #expect(defaults.spinWindow == .microseconds(100))
    }

    @Test func configFileComesFromWEFTCONFIGWhenNoFlagNamesOne() async throws {
        let file = try writeConfigFile(.yaml)
        defer { unlink(file) }
        let loaded = try await configuration(environment: ["WEFT_CONFIG": file])
        #expect(loaded.progress == .sleep)
    }

    @Test func onlyWEFTVariablesAreRead() async throws {
        let loaded = try await configuration(environment: ["PROGRESS": "spin", "IO_THREADS": "9"])
        #expect(loaded.progress == .adaptive)
        #expect(loaded.ioThreads == 1)
    }

    /// Checks that loading fails with `.invalid` for `key`, in one sentence that names it.
    private func expectInvalid(
        key: String, flags: [String: String] = [:], environment: [String: String] = [:], file: String? = nil
    ) async {
        do {
            _ = try await configuration(flags: flags, environment: environment, file: file)
            Issue.record("expected \(key) to be rejected")
        } catch let error as ConfigurationError {
            guard case .invalid(let named, _) = error else {
                Issue.record("expected .invalid(\(key)), got \(error)")
                return
            }
            #expect(named == key)
            let sentence = error.description
            #expect(sentence.hasPrefix("\(key): "))
            #expect(!sentence.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aBadValueGivesOneSentenceNamingTheKey() async throws {
        await expectInvalid(key: "io-threads", flags: ["io-threads": "many"])
        await expectInvalid(key: "progress", environment: ["WEFT_PROGRESS": "fast"])
        await expectInvalid(key: "io-cpus", flags: ["io-cpus": "0,x"])
        let file = try writeConfigFile(.yaml, body: "shm:\n  ring-bytes: 1000\n")
        defer { unlink(file) }
        await expectInvalid(key: "shm.ring-bytes", file: file)
        let sentence = ConfigurationError.invalid(key: "shm.ring-bytes", reason: "1000 is outside 65536...1073741824")
        #expect(sentence.description == "shm.ring-bytes: 1000 is outside 65536...1073741824")
    }

    @Test func aMissingConfigFileIsOneSentenceNamingIt() async {
        do {
            _ = try await configuration(file: "/nonexistent/weft.yaml")
            Issue.record("expected the missing file to be reported")
        } catch let error as ConfigurationError {
            guard case .unreadableFile(let path, _) = error else {
                Issue.record("expected .unreadableFile, got \(error)")
                return
            }
            #expect(path == "/nonexistent/weft.yaml")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
