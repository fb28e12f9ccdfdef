import Dataset
import Foundation
import GRDB
import Synchronization
import Testing
import _DSBuildTestSupport

/// `collect → filter → describe → mcq` through the commands on real K-Viscuit images (directory source) and the
/// loopback chat fake: the split is the stored one, Type 2 questions are linked to images of their split, nothing
/// grounded on a held-out image reaches a training question, answer keys never move on a rerun, and failures of
/// the VLM judge and the blind check are failures, never decisions.
@Suite(.serialized) struct MCQExperimentTests {
    /// Flips chat behaviour between runs of one test (the responder is called from the server's threads).
    final class Switches: Sendable {
        let judgeFails = Mutex(false)
        let blindFails = Mutex(false)
    }

    struct Fixture {
        let tmp = TemporaryDirectory("dsbuild-mcq")
        let chat: FakeChatEndpoint
        let server: LoopbackHTTPServer
        let switches = Switches()
        let cli: CommandRunner
        var workspace: URL { tmp.path("ws") }

        /// `counts[i]` images for the i-th Food keyword of K-Viscuit (its own image first, then others').
        init(counts: [Int], recipeExtra: String = "", vlmJudge: Bool = false) throws {
            let items = try KViscuitFixture.type1Items().filter {
                $0.category == "Food" && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let unique = items.filter { seen.insert($0.keyword).inserted && !$0.keyword.contains("/") }
            var spare = Array(unique.dropFirst(counts.count)).makeIterator()
            let root = tmp.path("images")
            var csv = "keyword,category\n"
            for (i, count) in counts.enumerated() {
                let keyword = unique[i].keyword
                csv += "\"\(keyword)\",food\n"
                let folder = root.appendingPathComponent(keyword)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                var files = [unique[i].imagePath]
                for _ in 1..<max(count, 1) {
                    guard let next = spare.next() else { throw CocoaError(.fileNoSuchFile) }
                    files.append(next.imagePath)
                }
                for file in files {
                    try FileManager.default.copyItem(at: TestPaths.kViscuitImages.appendingPathComponent(file), to: folder.appendingPathComponent(file))
                }
            }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            let switches = self.switches
            chat = FakeChatEndpoint { body in
                let schema = ((body["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["name"] as? String
                if schema == "watermark_judgement", switches.judgeFails.withLock({ $0 }) {
                    return .error(status: 500, message: "The server had an error while processing your request.")
                }
                if let max = body["max_tokens"] as? Int ?? body["max_completion_tokens"] as? Int, max <= 5 {
                    if switches.blindFails.withLock({ $0 }) { return .error(status: 503, message: "overloaded") }
                    return Self.blindAnswer(FakeChatEndpoint.lastUserText(body))
                }
                if schema == "mcq", let seed = body["seed"] {
                    // The variants of one keyword differ by seed only; a real model answers them differently.
                    var copy = body
                    copy["messages"] = (body["messages"] as? [Any] ?? []) + [["role": "system", "content": "seed \(seed)"]]
                    return PipelineChatResponder.respond(copy)
                }
                return PipelineChatResponder.respond(body)
            }
            server = try chat.serve()
            try """
                name: mcq-experiment
                keywords: keywords.csv
                contact: https://example.org/dsbuild-tests
                llm:
                  model: fake-model
                  concurrency: 4
                  max_attempts: 2
                collect:
                  per_keyword: 5
                  sources:
                    directory:
                      path: \(root.path)
                filter:
                  min_short_side: 100
                  aspect_ratio: [0.3, 3.0]
                  watermark:
                    vlm_judge: \(vlmJudge)
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                  images_per_keyword: 5
                  concurrency: 4
                mcq:
                  types: [1, 2]
                  per_keyword: 2
                  seed: 7
                  concurrency: 4
                \(recipeExtra)
                """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
            cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-test-0123456789"])
        }

        /// The blind model: picks the option the fake's Type 2 answers mark with a trailing " A" (so every
        /// Type 2 question is leaky), else "A" (so Type 1 questions keyed A are leaky).
        static func blindAnswer(_ prompt: String) -> FakeChatEndpoint.Behaviour {
            for line in prompt.split(separator: "\n") where line.count > 3 && line.hasSuffix(" A") && line.dropFirst().hasPrefix(". ") {
                return .content(String(line.prefix(1)))
            }
            return .content("A")
        }

        @discardableResult
        func run(_ arguments: [String], expect status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandRunner.Result {
            let result = try cli.run(arguments + ["--workspace", workspace.path])
            #expect(result.status == status, "dsbuild \(arguments.joined(separator: " ")): \(result.stderr.suffix(2000))", sourceLocation: sourceLocation)
            return result
        }

        func build(through stage: String = "mcq") throws {
            let init_ = try cli.run(["init", workspace.path, "--recipe", tmp.path("recipe.yaml").path, "--quiet"])
            #expect(init_.status == 0, "\(init_.stderr)")
            for command in ["collect", "filter", "describe", "mcq"] {
                try run([command, "--quiet"])
                if command == stage { break }
            }
        }

        func read<T>(_ body: (Database) throws -> T) throws -> T {
            try Workspace.open(at: workspace).manifest.read(body)
        }

        /// Every column of every question row, in id order.
        func questionRows() throws -> [String] {
            try read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM questions ORDER BY id").map { row in
                    row.columnNames.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(separator: "|")
                }
            }
        }
    }

    struct Question {
        let id: String
        let keywordID: Int64
        let sha: String
        let type: Int
        let split: String
        let answer: Int
        let status: String
        let reason: String?
        let leaky: Bool?
    }

    static func questions(_ f: Fixture) throws -> [Question] {
        try f.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM questions WHERE origin = 'generated' ORDER BY id").map {
                Question(id: $0["id"], keywordID: $0["keyword_id"], sha: $0["image_sha256"], type: $0["type"], split: $0["split"],
                         answer: $0["answer"], status: $0["status"], reason: $0["reason"], leaky: $0["leaky"])
            }
        }
    }

    @Test func aSecondMCQOnAnUnchangedWorkspaceChangesNoQuestionRow() throws {
        let f = try Fixture(counts: [3, 2, 3, 2, 3, 2, 3, 2, 2, 1])
        defer { f.server.stop() }
        try f.build()
        let first = try f.questionRows()
        #expect(first.count > 20)
        let requests = f.chat.requestCount
        let again = try f.run(["mcq", "--json"])
        #expect(try f.questionRows() == first)
        #expect(f.chat.requestCount == requests, "a rerun asks nothing")
        #expect(try again.json()["created"] as? Int == 0)
        // A third time, with the blind check recording verdicts, options, answers, splits and statuses still hold.
        try f.run(["mcq", "--blind-check", "--quiet"])
        let strip = { (rows: [String]) in rows.map { $0.split(separator: "|").filter { !$0.hasPrefix("leaky=") }.joined(separator: "|") } }
        #expect(strip(try f.questionRows()) == strip(first))
    }

    @Test func theDefaultSplitHoldsOutImagesAndEveryQuestionIsOnAnImageOfItsSplit() throws {
        let f = try Fixture(counts: [3, 2, 3, 2, 3, 2, 3, 2, 2, 1])
        defer { f.server.stop() }
        try f.build()
        let (map, kept, lonely): (SplitMap, [Int64: [String]], [String]) = try f.read { db in
            let kept = Dictionary(grouping: try KeptPairs.all(in: db), by: \.keywordID).mapValues { $0.map(\.sha256) }
            let lonely = try String.fetchAll(db, sql: "SELECT text FROM keywords WHERE id NOT IN (SELECT keyword_id FROM kept_pairs GROUP BY keyword_id HAVING COUNT(*) >= 2)")
            return (try SplitMap.load(in: db), kept, lonely)
        }
        #expect(kept.count == 10)
        // (b) No image is both train and test; every keyword with two or more kept images holds out at least one.
        let trainShas = Set(map.imageSplits.filter { $0.value == "train" }.map(\.key.sha))
        #expect(trainShas.isDisjoint(with: map.testImages))
        for (keyword, images) in kept where images.count >= 2 {
            #expect(!map.testImages(of: keyword).isEmpty, "keyword \(keyword) has \(images.count) kept images and none held out")
            #expect(!map.trainImages(of: keyword).isEmpty)
        }
        #expect(lonely.count == 1)
        let rerun = try f.run(["mcq", "--json"])
        let split = try #require(try rerun.json()["split"] as? [String: Any])
        #expect(split["split_by"] as? String == "image")
        #expect(split["keywords_without_test"] as? [String] == lonely)
        let text = try f.run(["mcq"])
        #expect(text.stderr.contains("keyword \(lonely[0]) has fewer than two kept images"))

        let questions = try Self.questions(f).filter { $0.status == "accepted" }
        let type1 = questions.filter { $0.type == 1 }
        let type2 = questions.filter { $0.type == 2 }
        #expect(type1.contains { $0.split == "test" } && type1.contains { $0.split == "train" })
        for q in type1 {
            #expect(q.split == (map.testImages.contains(q.sha) ? "test" : "train"), "\(q.id)")
        }
        // (c) Every Type 2 question is on a kept image of its keyword, test ones on held-out images.
        #expect(type2.count >= 15)
        #expect(type2.contains { $0.split == "test" } && type2.contains { $0.split == "train" })
        for q in type2 {
            #expect(kept[q.keywordID]?.contains(q.sha) == true, "\(q.id) image \(q.sha.prefix(12))")
            #expect(q.split == (map.testImages.contains(q.sha) ? "test" : "train"), "\(q.id)")
        }
        #expect(!type2.contains { $0.split == "test" && map.testImages(of: $0.keywordID).isEmpty })

        // (d) A training question's prompt quotes no description grounded on a held-out image.
        let grounded: [(keywordID: Int64, sha: String, text: String)] = try f.read { db in
            try Row.fetchAll(db, sql: "SELECT keyword_id, image_sha256, text FROM descriptions WHERE status = 'accepted' AND image_sha256 != ''")
                .map { ($0[0], $0[1], $0[2]) }
        }
        let heldOutTexts = grounded.filter { map.testImages.contains($0.sha) }.map(\.text)
        #expect(!heldOutTexts.isEmpty)
        let keywords: [Int64: String] = try f.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, text FROM keywords").map { ($0[0], $0[1]) })
        }
        let prompts = f.chat.bodies.filter { (($0["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["name"] as? String == "mcq" }
        func prompt(of q: Question) throws -> String {
            let variant = try #require(Int(q.id.split(separator: "-").last ?? ""))
            let keyword = try #require(keywords[q.keywordID])
            let body = try #require(prompts.first {
                FakeChatEndpoint.firstUserText($0).contains("\"\(keyword)\"") && ($0["seed"] as? Int) == 7 + variant
            }, "no request for \(q.id)")
            return FakeChatEndpoint.firstUserText(body)
        }
        var testPromptsQuotingHeldOut = 0
        for q in type2 {
            let text = try prompt(of: q)
            let quoted = heldOutTexts.filter { text.contains($0) }
            if q.split == "train" {
                #expect(quoted.isEmpty, "train question \(q.id) quotes a description of a held-out image")
            } else if !quoted.isEmpty {
                testPromptsQuotingHeldOut += 1
            }
        }
        // The check can fail: test questions do quote their held-out image's description.
        #expect(testPromptsQuotingHeldOut > 0)

        // (e) The letters of the questions created are balanced per type and split (as close as n allows).
        for type in [1, 2] {
            for split in ["train", "test"] {
                let group = questions.filter { $0.type == type && $0.split == split }
                guard group.count >= 4 else { continue }
                var histogram = [0, 0, 0, 0]
                for q in group { histogram[q.answer] += 1 }
                let n = Double(group.count)
                #expect(histogram.allSatisfy { abs(Double($0) - n / 4) < max(0.05 * n, 1) }, "type \(type) \(split): \(histogram)")
            }
        }
    }

    @Test func splitOptionsAreValidatedAndAnotherSplitNeedsRefresh() throws {
        let f = try Fixture(counts: [3, 3, 2, 2])
        defer { f.server.stop() }
        try f.build()
        let bad = try f.run(["mcq", "--test-fraction", "1"], expect: 64)
        #expect(bad.stderr.contains("--test-fraction"))
        try f.run(["mcq", "--test-images-per-keyword", "0"], expect: 64)
        let before = try f.questionRows()
        let changed = try f.run(["mcq", "--split-by", "keyword"], expect: 2)
        #expect(changed.stderr.contains("--refresh"))
        #expect(try f.questionRows() == before)
        // --refresh re-splits by keyword and derives the questions again: every question follows its keyword.
        try f.run(["mcq", "--split-by", "keyword", "--test-fraction", "0.5", "--refresh", "--quiet"])
        let map = try f.read { db in try SplitMap.load(in: db) }
        #expect(map.testKeywords.count == 2)
        let questions = try Self.questions(f).filter { $0.status == "accepted" }
        #expect(!questions.isEmpty)
        for q in questions { #expect(q.split == (map.testKeywords.contains(q.keywordID) ? "test" : "train"), "\(q.id)") }
    }

    @Test(arguments: ["500", "connection refused"])
    func aFailingVLMJudgeLeavesTheImageUndecidedAndARerunDecidesIt(_ failure: String) throws {
        let f = try Fixture(counts: [2, 1, 1], vlmJudge: true)
        defer { f.server.stop() }
        let init_ = try f.cli.run(["init", f.workspace.path, "--recipe", f.tmp.path("recipe.yaml").path, "--quiet"])
        #expect(init_.status == 0)
        try f.run(["collect", "--quiet"])
        var failing = f.cli
        if failure == "500" {
            f.switches.judgeFails.withLock { $0 = true }
        } else {
            failing.environment["OPENAI_BASE_URL"] = "http://127.0.0.1:\(try LoopbackPort.free())/v1"
        }
        let failed = try failing.run(["filter", "--json", "--workspace", f.workspace.path])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("watermark undecided"))
        #expect((try failed.json()["undecided"] as? Int) == 4)
        let rows: [(pass: Int, value: String)] = try f.read { db in
            try Row.fetchAll(db, sql: "SELECT pass, value FROM filter_decisions WHERE rule = 'watermark'").map { ($0[0], $0[1]) }
        }
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { $0.pass == -1 && $0.value == "undecided" }, "\(rows)")
        #expect(try f.read { db in try KeptPairs.all(in: db) }.isEmpty, "an undecided image is not kept")

        // A healthy judge decides every image on the next run.
        f.switches.judgeFails.withLock { $0 = false }
        let healed = try f.run(["filter", "--json"])
        #expect((try healed.json()["undecided"] as? Int) == 0)
        let after: [(pass: Int, value: String)] = try f.read { db in
            try Row.fetchAll(db, sql: "SELECT pass, value FROM filter_decisions WHERE rule = 'watermark'").map { ($0[0], $0[1]) }
        }
        #expect(after.count == 4 && after.allSatisfy { $0.pass == 1 && $0.value == "none" }, "\(after)")
        #expect(try f.read { db in try KeptPairs.all(in: db) }.count == 4)
    }

    @Test func aFailedBlindCheckIsNoVerdictAndDropLeakyRejectionsSurviveReruns() throws {
        let f = try Fixture(counts: [2, 2, 2, 2, 1])
        defer { f.server.stop() }
        try f.build()
        let before = try Self.questions(f)
        #expect(before.allSatisfy { $0.leaky == nil })

        // The blind model is down: no question gets a verdict, none is dropped, the exit status says so.
        f.switches.blindFails.withLock { $0 = true }
        let down = try f.run(["mcq", "--blind-check", "--drop-leaky", "--json"], expect: 1)
        let blind = try #require(try down.json()["blind_check"] as? [String: Any])
        #expect(blind["failures"] as? Int == before.filter { $0.status == "accepted" }.count)
        let afterFailure = try Self.questions(f)
        #expect(afterFailure.allSatisfy { $0.leaky == nil })
        #expect(afterFailure.map(\.status) == before.map(\.status))

        // Healthy: every Type 2 and the Type 1 keyed A are answered blind, flagged and rejected.
        f.switches.blindFails.withLock { $0 = false }
        try f.run(["mcq", "--blind-check", "--drop-leaky", "--quiet"])
        let dropped = try Self.questions(f).filter { $0.reason == "leaky" }
        #expect(dropped.contains { $0.type == 1 } && dropped.contains { $0.type == 2 })
        #expect(dropped.allSatisfy { $0.status == "rejected" && $0.leaky == true })
        let rows = try f.questionRows()

        // Reruns, with and without the check, keep every rejection and change no row.
        try f.run(["mcq", "--quiet"])
        #expect(try f.questionRows() == rows)
        try f.run(["mcq", "--blind-check", "--quiet"])
        #expect(try Self.questions(f).filter { $0.reason == "leaky" }.map(\.id) == dropped.map(\.id))
    }
}
