import Collect
import Foundation
import Testing
import _DSBuildTestSupport

/// A `collect` option and its recipe key apply one rule object, so they refuse the same value for the same reason.
@Suite(.serialized) struct CollectOptionRuleTests {
    static let cases: [(option: [String], yaml: String, key: String, reason: String?)] = [
        (["--per-keyword", "0"], "per_keyword: 0", "collect.per_keyword", CollectSettings.perKeywordRule.problem(int: 0)),
        (["--concurrency", "0"], "concurrency: 0", "collect.concurrency", DownloadSettings.concurrencyRule.problem(int: 0)),
        (["--per-host", "0"], "per_host: 0", "collect.per_host", DownloadSettings.concurrencyRule.problem(int: 0)),
        (["--max-attempts", "0"], "max_attempts: 0", "collect.max_attempts", DownloadSettings.maxAttemptsRule.problem(int: 0)),
        (["--timeout", "0"], "timeout_seconds: 0", "collect.timeout_seconds", DownloadSettings.timeoutRule.problem(double: 0)),
        (["--licenses", "cc-by,bogus"], "licenses: [cc-by, bogus]", "collect.licenses", LicenseFilter.rule.problem(strings: ["cc-by,bogus"])),
        (["--allow-host", "10.0.0.0/99"], "allow_hosts: [\"10.0.0.0/99\"]", "collect.allow_hosts",
         DownloadSettings.allowHostsRule.problem(strings: ["10.0.0.0/99"])),
    ]

    @Test func anOptionAndItsRecipeKeyRefuseTheSameValueForTheSameReason() throws {
        let tmp = TemporaryDirectory("collect-option-rules")
        let cli = CommandRunner()
        let ws = tmp.path("ws").path
        let empty = tmp.path("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let created = try cli.run(["init", ws])
        try #require(created.status == 0, "\(created.stderr)")
        for (index, c) in Self.cases.enumerated() {
            let reason = try #require(c.reason, "\(c.key): the rule accepts the value")
            let file = tmp.path("bad-\(index).yaml")
            try "name: bad\ncollect:\n  \(c.yaml)\n".write(to: file, atomically: true, encoding: .utf8)
            let recipe = try cli.run(["init", tmp.path("ws-\(index)").path, "--recipe", file.path])
            #expect(recipe.status != 0, "\(c.key) accepted")
            #expect(recipe.stderr.contains("bad-\(index).yaml:3") && recipe.stderr.contains(c.key) && recipe.stderr.contains(reason),
                    "\(c.key): \(recipe.stderr)")
            // A folder source, so an option wrongly accepted reaches no network.
            let option = try cli.run(["collect", "--workspace", ws, "--sources", "directory", "--source-file", empty.path,
                                      "--search-only", "--quiet"] + c.option)
            #expect(option.status != 0, "\(c.option) accepted")
            #expect(option.stderr.contains(c.option[0]) && option.stderr.contains(reason), "\(c.option): \(option.stderr)")
        }
    }
}
