import Dataset
import Foundation
import GRDB
import Synchronization
import Testing
import _DSBuildTestSupport

/// Issue 16, item 2, through the commands on real K-Viscuit images (a loopback Commons fake serving them, a fake
/// chat endpoint): every step of the pipeline — per-item stages and whole-set steps alike — runs through the
/// runner, so each has a `runs` row that is closed, records the settings applied and counts what the step did,
/// and the counts agree with what the manifest holds.
@Suite(.serialized) struct StageRunsTests {
    static let secret = "sk-stage-runs-0123456789"

    struct Fixture {
        let tmp = TemporaryDirectory("dsbuild-stage-runs")
        let commons: FakeCommonsAPI
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respond)
        let chatServer: LoopbackHTTPServer
        let cli: CommandRunner
        let workspace: URL

        init() throws {
            let items = try KViscuitFixture.type1Items().filter {
                FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let unique = items.filter { seen.insert($0.keyword).inserted }
            let chosen = Array(unique.prefix(8))
            var files: [String: [URL]] = [:]
            for (i, item) in chosen.enumerated() {
                // Two images for most keywords (so each has a held-out image), and the same photo twice for one:
                // an exact duplicate for the duplicates step to drop.
                var list = [TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)]
                if i < 6, unique.count > i + 40 { list.append(TestPaths.kViscuitImages.appendingPathComponent(unique[i + 40].imagePath)) }
                if i == 0 {
                    // The same photo with other bytes (a trailer after the JPEG's end): a near duplicate by pHash.
                    var bytes = try Data(contentsOf: list[0])
                    bytes.append(contentsOf: Array(repeating: 0, count: 64))
                    let copy = tmp.path("copy-of-\(list[0].lastPathComponent)")
                    try bytes.write(to: copy)
                    list.append(copy)
                }
                files[item.keyword] = list
            }
            commons = try FakeCommonsAPI(files: files)
            chatServer = try chat.serve()
            var csv = "keyword,category\n"
            for item in chosen { csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category.lowercased())\n" }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try """
                name: stage-runs
                keywords: keywords.csv
                llm:
                  model: fake-model
                  concurrency: 3
                collect:
                  per_keyword: 3
                  licenses: [cc0, cc-by, cc-by-sa]
                  allow_hosts: ["127.0.0.1:\(commons.server.port)"]
                  sources:
                    commons:
                      base_url: \(commons.baseURL)
                      thumbnail_width: 1280
                filter:
                  min_short_side: 100
                  aspect_ratio: [0.3, 3.0]
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                mcq:
                  test_fraction: 0.25
                  seed: 7
                shards:
                  out: shards
                eval:
                  model: fake-model
                  conditions: [with-image, no-image]
                """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
            cli = CommandRunner(environment: ["OPENAI_BASE_URL": chatServer.url("/v1").absoluteString, "OPENAI_API_KEY": StageRunsTests.secret])
            workspace = tmp.path("ws")
        }

        func run(_ arguments: [String], allowing statuses: Set<Int32> = [0]) throws {
            let result = try cli.run(arguments + ["--workspace", workspace.path, "--quiet"])
            #expect(statuses.contains(result.status), "\(arguments.joined(separator: " ")): \(result.stderr)")
        }

        func rows(_ sql: String) throws -> [[String]] { try Hardening.rows(workspace, sql) }

        func count(_ sql: String) throws -> Int { Int(try rows(sql).first?.first ?? "") ?? -1 }

        /// The last run row of a command: its id, status, settings and counts.
        func lastRun(_ command: String) throws -> (id: Int64, status: String, settings: [String: Any], counts: [String: Int])? {
            guard let row = try rows("SELECT id, status, settings, counts FROM runs WHERE command = '\(command)' ORDER BY id DESC LIMIT 1").first
            else { return nil }
            let settings = (try? JSONSerialization.jsonObject(with: Data(row[2].utf8))) as? [String: Any] ?? [:]
            let counts = (try? JSONSerialization.jsonObject(with: Data(row[3].utf8))) as? [String: Int] ?? [:]
            return (Int64(row[0]) ?? -1, row[1], settings, counts)
        }
    }

    @Test func everyStepRunsThroughTheRunnerWithAClosedRowItsSettingsAndTrueCounts() throws {
        let f = try Fixture()
        defer { f.commons.stop(); f.chatServer.stop() }
        #expect(try f.cli.run(["init", f.workspace.path, "--recipe", f.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        try f.run(["collect"])
        try f.run(["filter"])

        // Download attempts name the download run they belong to (handed over by the runner, not looked up).
        let download = try #require(try f.lastRun("download"))
        #expect(try f.count("SELECT COUNT(*) FROM download_attempts") > 0)
        #expect(try f.count("SELECT COUNT(*) FROM download_attempts WHERE run_id IS NOT \(download.id)") == 0)

        // Duplicate grouping is a step of its own: it decided every pair no other rule dropped, and dropped the copy.
        let duplicates = try #require(try f.lastRun("filter.duplicates"))
        #expect(duplicates.status == "ok")
        #expect(duplicates.settings["duplicates.phash_distance"] != nil || (duplicates.settings["duplicates"] as? [String: Any]) != nil,
                "the filter settings applied: \(duplicates.settings)")
        let grouped = try f.count("SELECT COUNT(*) FROM filter_decisions WHERE rule = 'duplicates'")
        #expect(grouped > 0 && (duplicates.counts["kept"] ?? 0) + (duplicates.counts["dropped"] ?? 0) == grouped)
        #expect(try f.count("SELECT COUNT(*) FROM filter_decisions WHERE rule = 'duplicates' AND pass = 0") == duplicates.counts["dropped"])
        #expect((duplicates.counts["dropped"] ?? 0) >= 1, "the photo served twice under one keyword")
        #expect(try f.count("""
            SELECT COUNT(*) FROM (SELECT keyword_id, image_sha256 FROM filter_decisions GROUP BY keyword_id, image_sha256
            HAVING SUM(rule = 'duplicates') = 0 AND MIN(pass) = 1)
            """) == 0, "no pair left kept without a duplicates decision")

        try f.run(["describe"])
        let dedup = try #require(try f.lastRun("describe.dedup"))
        #expect(dedup.status == "ok" && dedup.counts["changed"] != nil)
        #expect(dedup.settings["aspects"] as? [String] == ["visual"], "describe's settings: \(dedup.settings)")

        // A Type-1-only mcq is a run too: the split, Type 1 and finalize each have a row.
        try f.run(["mcq", "--types", "1"])
        for step in ["mcq.split", "mcq.type1", "mcq.finalize"] {
            let run = try #require(try f.lastRun(step), "\(step) has a run row")
            #expect(run.status == "ok", "\(step): \(run.status)")
            #expect(run.settings["types"] as? [Int] == [1], "\(step) records the types applied: \(run.settings)")
        }
        #expect(try f.lastRun("mcq.type2") == nil, "no Type 2 was asked for")
        let type1 = try #require(try f.lastRun("mcq.type1"))
        let finalize = try #require(try f.lastRun("mcq.finalize"))
        #expect(type1.counts["accepted"] == (try f.count("SELECT COUNT(*) FROM questions WHERE type = 1")) - (type1.counts["rejected"] ?? 0),
                "\(type1.counts)")
        #expect(finalize.counts["total"] == (try f.count("SELECT COUNT(*) FROM questions WHERE type = 1 AND status = 'accepted'")),
                "\(finalize.counts)")
        let split = try #require(try f.lastRun("mcq.split"))
        #expect(split.counts["test_images"] == (try f.count("SELECT COUNT(DISTINCT image_sha256) FROM splits WHERE split = 'test' AND image_sha256 != ''")))

        // Type 2 and the blind check: the blind check is a stage, every accepted generated question is checked.
        try f.run(["mcq", "--types", "1,2", "--blind-check"])
        let type2 = try #require(try f.lastRun("mcq.type2"))
        #expect(type2.status == "ok" && (type2.counts["pending"] ?? 0) > 0)
        let blind = try #require(try f.lastRun("mcq.blind_check"))
        #expect(blind.status == "ok")
        let accepted = try f.count("SELECT COUNT(*) FROM questions WHERE status = 'accepted' AND origin = 'generated'")
        #expect(blind.counts["pending"] == accepted)
        #expect(blind.counts.filter { $0.key.hasPrefix("type") }.values.reduce(0, +) == accepted)
        #expect(try f.count("SELECT COUNT(*) FROM questions WHERE status = 'accepted' AND origin = 'generated' AND leaky IS NULL") == 0)

        // A rerun has nothing to write; another model makes every planned Type 2 question pending again.
        try f.run(["mcq"])
        #expect(try f.lastRun("mcq.type2")?.counts["pending"] == 0)
        let planned = try f.count("SELECT COUNT(*) FROM questions WHERE type = 2 AND origin = 'generated' AND status IN ('accepted', 'rejected')")
        try f.run(["mcq", "--model", "another-model"])
        let again = try #require(try f.lastRun("mcq.type2"))
        #expect(again.counts["pending"] == planned && again.settings["model"] as? String == "another-model")

        // Shards, with an export, is one stage: its row counts what shards.json says.
        try f.run(["shards", "--export", "mcq"])
        let shards = try #require(try f.lastRun("shards"))
        #expect(shards.status == "ok" && shards.counts["exports"] == 1)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: f.workspace.appendingPathComponent("shards/shards.json"))) as? [String: Any]
        let counts = index?["counts"] as? [String: Any]
        #expect(shards.counts["text_records"] == counts?["text"] as? Int && shards.counts["paired_samples"] == counts?["paired"] as? Int)

        // Eval: each condition is a step through the runner, whose row counts the score printed and names the result
        // stored.
        let evaluated = try f.cli.run(["eval", "--workspace", f.workspace.path, "--json"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let reports = try #require(try evaluated.json()["conditions"] as? [[String: Any]])
        #expect(reports.compactMap { $0["condition"] as? String } == ["with-image", "no-image"])
        for report in reports {
            let condition = report["condition"] as? String ?? ""
            let run = try #require(try f.lastRun("eval.\(condition)"), "eval.\(condition) has a run row")
            #expect(run.status == "ok", "eval.\(condition): \(run.status)")
            #expect(run.settings["conditions"] as? [String] == ["with-image", "no-image"] && run.settings["model"] as? String == "fake-model",
                    "the eval: settings applied: \(run.settings)")
            let overall = report["overall"] as? [String: Any] ?? [:]
            #expect((run.counts["questions"] ?? 0) > 0 && run.counts["questions"] == overall["n"] as? Int
                    && run.counts["correct"] == overall["correct"] as? Int && run.counts["unparsed"] == overall["unparsed"] as? Int
                    && run.counts["errors"] == report["errors"] as? Int && run.counts["failures"] == 0, "\(run.counts) vs \(report)")
            let stored = try #require(report["stored_id"] as? Int)
            #expect(try f.rows("SELECT run_id, condition FROM eval_results WHERE id = \(stored)") == [["\(run.id)", condition]])
        }
        #expect(try f.count("SELECT COUNT(*) FROM eval_results") == 2)

        // An endpoint that fails a question: the condition's run is failed, the question named once, exit status 1.
        let requests = RequestCounter()
        let failing = FakeChatEndpoint { body in
            requests.next() == 1 ? .error(status: 400, message: "this question is refused") : PipelineChatResponder.respond(body)
        }
        let failingServer = try failing.serve()
        defer { failingServer.stop() }
        let failed = try f.cli.run(["eval", "--workspace", f.workspace.path, "--model", "another-model", "--condition", "no-image",
                                    "--endpoint", failingServer.url("/v1").absoluteString, "--json"])
        #expect(failed.status == 1, "\(failed.stderr)")
        let failedReport = try failed.json()
        #expect(failedReport["errors"] as? Int == 1, "\(failedReport)")
        let failedRun = try #require(try f.lastRun("eval.no-image"))
        #expect(failedRun.status == "failed" && failedRun.counts["errors"] == 1 && failedRun.counts["failures"] == 1, "\(failedRun)")
        #expect(failedRun.settings["model"] as? String == "another-model" && failedRun.settings["conditions"] as? [String] == ["no-image"])
        #expect(failed.stderr.split(separator: "\n").filter { $0.hasPrefix("error: question ") && $0.contains("refused") }.count == 1,
                "\(failed.stderr)")
        #expect(try f.rows("SELECT run_id FROM eval_results WHERE id = \(failedReport["stored_id"] as? Int ?? -1)") == [["\(failedRun.id)"]])

        // An endpoint that answers nothing (every request refused): no score is stored (a 0 % would read as a model
        // that answered wrong), the condition says so, the second condition is not started, exit status 1.
        let storedBefore = try f.count("SELECT COUNT(*) FROM eval_results")
        let down = FakeChatEndpoint { _ in .error(status: 400, message: "model not found") }
        let downServer = try down.serve()
        defer { downServer.stop() }
        let nothing = try f.cli.run(["eval", "--workspace", f.workspace.path, "--model", "missing-model",
                                     "--endpoint", downServer.url("/v1").absoluteString, "--json"])
        #expect(nothing.status == 1, "\(nothing.stderr)")
        #expect(nothing.stderr.contains("eval with-image: no question got an answer; nothing stored"), "\(nothing.stderr)")
        #expect(try f.count("SELECT COUNT(*) FROM eval_results") == storedBefore, "nothing stored")
        let downRun = try #require(try f.lastRun("eval.with-image"))
        #expect(downRun.status == "failed" && downRun.settings["model"] as? String == "missing-model")
        #expect(try f.lastRun("eval.no-image")?.settings["model"] as? String != "missing-model", "the second condition was not started")
        #expect(try nothing.json()["stored_id"] is NSNull, "\(nothing.stdout)")

        // A workspace eval reads its recipe as every command does: an invalid one stops it before anything is asked.
        let recipeURL = f.workspace.appendingPathComponent("recipe.yaml")
        let recipeText = try String(contentsOf: recipeURL, encoding: .utf8)
        try (recipeText + "\nbogus_section: 1\n").write(to: recipeURL, atomically: true, encoding: .utf8)
        let invalid = try f.cli.run(["eval", "--workspace", f.workspace.path, "--json"])
        try recipeText.write(to: recipeURL, atomically: true, encoding: .utf8)
        #expect(invalid.status != 0 && invalid.stderr.contains("bogus_section"), "\(invalid.status) \(invalid.stderr)")
        // A named workspace that does not exist is an error, not an eval without a workspace.
        let missing = try f.cli.run(["eval", "--workspace", f.workspace.appendingPathComponent("no-such").path, "--model", "m",
                                     "--endpoint", downServer.url("/v1").absoluteString])
        #expect(missing.status != 0 && missing.stderr.contains("no-such"), "\(missing.status) \(missing.stderr)")
        #expect(try f.count("SELECT COUNT(*) FROM eval_results") == storedBefore)

        // The workspace these steps built audits clean.
        let check = try f.cli.run(["check", "--workspace", f.workspace.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        // Every row is closed, and every step recorded the settings it applied.
        let open = try f.rows("SELECT command FROM runs WHERE status NOT IN ('ok', 'failed') OR finished_at IS NULL")
        #expect(open.isEmpty, "\(open)")
        let empty = try f.rows("SELECT command FROM runs WHERE settings = '{}' OR settings IS NULL").map { $0[0] }
        #expect(empty.isEmpty, "runs without settings: \(empty)")
        let commands = Set(try f.rows("SELECT command FROM runs").map { $0[0] })
        #expect(commands.isSuperset(of: ["search", "download", "filter", "filter.duplicates", "describe", "describe.dedup", "mcq.split",
                                         "mcq.type1", "mcq.type2", "mcq.finalize", "mcq.blind_check", "shards", "eval.with-image",
                                         "eval.no-image"]), "\(commands.sorted())")
        #expect(try f.count("SELECT COUNT(*) FROM runs WHERE settings LIKE '%\(StageRunsTests.secret)%'") == 0)
    }

    /// The questions as they end: id, options, answer, split and status.
    static func questions(_ workspace: URL) throws -> [[String]] {
        try Hardening.rows(workspace, "SELECT id, options, answer, split, status FROM questions ORDER BY id")
    }

    /// Ctrl-C while Type 2 questions are being written, then a rerun, ends with the answer keys an uninterrupted
    /// run places: a set cut short is not balanced on its own (it was, and the keys it fixed then never moved).
    @Test func anMCQInterruptedInType2EndsWithTheKeysOfAnUninterruptedRun() throws {
        let f = try Fixture()
        defer { f.commons.stop(); f.chatServer.stop() }
        #expect(try f.cli.run(["init", f.workspace.path, "--recipe", f.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        for command in ["collect", "filter", "describe"] { try f.run([command]) }
        let interrupted = f.tmp.path("ws-interrupted")
        try FileManager.default.copyItem(at: f.workspace, to: interrupted)

        try f.run(["mcq", "--per-keyword", "3"])
        let reference = try Self.questions(f.workspace)
        #expect(reference.filter { $0[0].hasPrefix("t2-") }.count >= 6, "Type 2 questions to compare")

        let slow = FakeChatEndpoint(latency: 0.25, responder: PipelineChatResponder.respond)
        let slowServer = try slow.serve()
        defer { slowServer.stop() }
        let slowCLI = CommandRunner(environment: ["OPENAI_BASE_URL": slowServer.url("/v1").absoluteString, "OPENAI_API_KEY": Self.secret])
        let running = try slowCLI.start(["mcq", "--per-keyword", "3", "--concurrency", "1", "--workspace", interrupted.path, "--quiet"])
        defer { running.kill() }
        let underWay = Hardening.waitUntil(60) {
            (Int((try? Hardening.rows(interrupted, "SELECT COUNT(*) FROM questions WHERE type = 2 AND status = 'accepted'").first?.first) ?? "0") ?? 0) >= 2
        }
        #expect(underWay, "Type 2 got under way")
        kill(running.process.processIdentifier, SIGINT)
        let stopped = running.wait()
        #expect(stopped.status == 130, "\(stopped.stderr)")
        #expect(try Hardening.runs(interrupted).last { $0.command == "mcq.type2" }?.status == "interrupted")
        #expect(try Hardening.rows(interrupted, "SELECT COUNT(*) FROM questions WHERE type = 2 AND status = 'accepted' AND placed_at IS NOT NULL").first?.first == "0",
                "nothing of the cut-short Type 2 set was placed")

        let rerun = try f.cli.run(["mcq", "--per-keyword", "3", "--workspace", interrupted.path, "--quiet"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let after = try Self.questions(interrupted)
        #expect(after == reference, "answer keys differ: \(Set(after.map { $0.joined(separator: "|") }).symmetricDifference(reference.map { $0.joined(separator: "|") }).sorted().prefix(4))")
    }
}

/// Counts requests as an endpoint answers them (first is 1), so a responder can fail a chosen one.
final class RequestCounter: Sendable {
    private let count = Mutex(0)

    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}
