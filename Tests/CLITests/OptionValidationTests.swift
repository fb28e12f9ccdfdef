import Foundation
import Testing
import _DSBuildTestSupport

/// An option with a fixed set of values is refused while parsing (an enum) or in `validate()`: a usage error
/// (status 64) with the same words as before, before any workspace is opened — so even a missing workspace
/// reports the bad option, and nothing is created or locked.
@Suite struct OptionValidationTests {
    let tmp = TemporaryDirectory("dsbuild-option-validation")
    let cli = CommandRunner()

    @Test(arguments: [
        (["describe", "--modes", "text-only,pictures"], "unknown mode \"pictures\": use image-grounded or text-only"),
        (["mcq", "--export", "q.jsonl", "--split", "tset"], "--split is train or test, not \"tset\""),
        (["mcq", "--types", "1,x"], "--types lists question types 1 and 2, not \"x\""),
        (["mcq", "--export", "q.jsonl", "--format", "csv"], "'csv' is invalid for '--format"),
        (["collect", "--sources", "commons,nowhere"], "unknown source `nowhere`"),
        (["check", "--only", "askable,nonsense"], "--only: nonsense: unknown check; known: "),
        (["filter", "--aspect-ratio", "wide"], "--aspect-ratio wants MIN,MAX"),
        (["eval", "--split", "dev"], "--split must be train or test, not dev"),
        // An empty value (an unset shell variable) or an empty entry is refused, never read as no list or a shorter one.
        (["describe", "--modes", ""], "--modes needs at least one value, not an empty string"),
        (["describe", "--languages", " "], "--languages needs at least one value"),
        (["describe", "--aspects", "visual,"], "--aspects has an empty entry in \"visual,\""),
        (["collect", "--sources", ""], "--sources needs at least one value"),
        (["collect", "--sources", "commons,,directory"], "--sources has an empty entry"),
        (["check", "--only", ""], "--only needs at least one value"),
        (["mcq", "--types", "1,,2"], "--types has an empty entry in \"1,,2\""),
    ])
    func aBadValueIsAUsageErrorBeforeTheWorkspaceIsOpened(_ arguments: [String], _ words: String) throws {
        let missing = tmp.path("no-workspace")
        let result = try cli.run(arguments + ["--workspace", missing.path], currentDirectory: tmp.url)
        #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(words), "\(arguments): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing.path), "nothing created for a usage error")
    }

    /// A keyword file that cannot be read fails `init` before anything is created (it left a workspace behind).
    @Test func initWithAnUnreadableKeywordFileCreatesNoWorkspace() throws {
        let ws = tmp.path("init-missing-keywords")
        let result = try cli.run(["init", ws.path, "--keywords", tmp.path("nowhere.txt").path])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("nowhere.txt"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ws.path), "no workspace left behind")
    }
}
