import Foundation
import Testing

@testable import WeftCore

/// docs/configuration.md is generated from the key table; this fails when they drift apart.
struct ConfigurationDocsTests {
    /// The repository root, found from this file's own path.
    private static var repositoryRoot: String {
        let path = "\(#filePath)"
        guard let range = path.range(of: "/Tests/WeftCoreTests/", options: .backwards) else { return "." }
        return String(path[..<range.lowerBound])
    }

    @Test func docsMatchTheKeyTable() throws {
        let path = Self.repositoryRoot + "/docs/configuration.md"
        let onDisk = try String(contentsOfFile: path, encoding: .utf8)
        let generated = ConfigDocs.markdown()
        guard onDisk != generated else { return }
        let diskLines = onDisk.split(separator: "\n", omittingEmptySubsequences: false)
        let generatedLines = generated.split(separator: "\n", omittingEmptySubsequences: false)
        let first =
            zip(diskLines, generatedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(diskLines.count, generatedLines.count)
        let diskLine = first < diskLines.count ? String(diskLines[first]) : "(end of file)"
        let generatedLine = first < generatedLines.count ? String(generatedLines[first]) : "(end of table)"
        Issue.record(
            """
            docs/configuration.md is out of date; regenerate it with \
            `weft info --config-keys --markdown > docs/configuration.md`. First difference, line \(first + 1):
              file:      \(diskLine)
              generated: \(generatedLine)
            """)
    }

    @Test func everyKeyIsDocumented() throws {
        let onDisk = try String(contentsOfFile: Self.repositoryRoot + "/docs/configuration.md", encoding: .utf8)
        for spec in ConfigKeys.all {
            #expect(onDisk.contains("| `\(spec.key)` | `\(spec.flag)` | `\(spec.environmentVariable)` |"), "\(spec.key)")
        }
    }
}
