import Dataset
import Foundation
import GRDB
import Imaging
import Synchronization
import Testing
import _DSBuildTestSupport

/// Issue 17, "Faithfulness" and "Answer keys", through the commands only (`init → collect → filter → describe → mcq →
/// shards → eval → check`) on real K-Viscuit images from a photo folder, with the loopback chat fake as writer,
/// question writer, the model under evaluation and a scripted verifier that recognises each image by its pHash:
///
/// - the verifier flags a false visual claim; the writer is asked again with the claim fed back — fixed for one
///   keyword, repeated for another until `describe.max_attempts`, which is then rejected as `unfaithful`;
/// - it disputes the Type 1 keys of one keyword (it answers another option) and finds the Type 2 question of
///   another ambiguous (the keywords are picked once the questions exist): those questions are `disputed` — absent from the shards, the question files and eval —
///   until `mcq.keep_disputed`, which brings them back without a request; no stored key moves;
/// - a verifier that answers 500, garbage or an exhausted quota decides nothing: nothing is rejected or disputed,
///   the exit status is not 0, and the next run with a healthy verifier verifies every item;
/// - a rerun makes no request; `status --json` and `check` count the verdicts.
@Suite(.serialized) struct VerificationExperimentTests {
    static let marker = "exactly seven purple stripes"
    static let claim = "it has exactly seven purple stripes across the top"

    enum VerifierMode: Sendable { case healthy, down, garbage, quota }

    /// How the verifier answers, switched between runs (the responder runs on the server's threads).
    final class Verifier: Sendable {
        let mode = Mutex(VerifierMode.healthy)
        /// The keyword whose Type 1 keys it disputes (it answers another option), and the one whose Type 2
        /// questions it finds ambiguous: chosen once the questions exist.
        let disputes = Mutex<(wrongKey: String, ambiguous: String)>(("", ""))
        func set(_ mode: VerifierMode) { self.mode.withLock { $0 = mode } }
        var current: VerifierMode { mode.withLock { $0 } }
    }

    struct Fixture {
        let tmp = TemporaryDirectory("dsbuild-verify-e2e")
        let chat: FakeChatEndpoint
        let server: LoopbackHTTPServer
        let cli: CommandRunner
        let verifier = Verifier()
        let keywords: [String]
        var workspace: URL { tmp.path("ws") }
        /// Described with the false claim until it is fed back.
        var fixable: String { keywords[0] }
        /// Described with the false claim every time.
        var stubborn: String { keywords[1] }

        /// Six Food keywords of K-Viscuit, two real images each.
        init() throws {
            let items = try KViscuitFixture.type1Items().filter {
                $0.category == "Food" && !$0.keyword.contains("/")
                    && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seenKeyword = Set<String>(), seenImage = Set<String>()
            let chosen = Array(items.filter { seenKeyword.insert($0.keyword).inserted }.prefix(6))
            for item in chosen { seenImage.insert(item.imagePath) }
            var spare = items.filter { seenImage.insert($0.imagePath).inserted }.makeIterator()
            let folder = try PhotoFolder(root: tmp.path("photos"))
            var csv = "keyword,category\n"
            var hashes: [(keyword: String, hash: PerceptualHash)] = []
            for item in chosen {
                csv += "\"\(item.keyword)\",food\n"
                guard let second = spare.next() else { throw CocoaError(.fileNoSuchFile) }
                for image in [item, second] {
                    let url = try folder.add(image, keyword: item.keyword)
                    hashes.append((item.keyword, try PerceptualHash.compute(data: try Data(contentsOf: url), upright: true)))
                }
            }
            keywords = chosen.map(\.keyword)
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)

            let verifier = self.verifier
            let keywords = self.keywords
            let (fixable, stubborn) = (keywords[0], keywords[1])
            let imageHashes = hashes
            chat = FakeChatEndpoint { body in
                let schema = ((body["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["name"] as? String
                if schema == "faithfulness_judgement" || schema == "answer_key_judgement" {
                    switch verifier.current {
                    case .down: return .error(status: 500, message: "The server had an error while processing your request.")
                    case .garbage: return .content("Looks fine to me.")
                    case .quota: return .insufficientQuota
                    case .healthy: break
                    }
                    let text = FakeChatEndpoint.firstUserText(body)
                    if schema == "faithfulness_judgement" {
                        let description = Self.block("description", in: text) ?? ""
                        return .content(description.contains(VerificationExperimentTests.marker)
                                        ? #"{"unsupported": ["\#(VerificationExperimentTests.claim)"], "verdict": "unfaithful"}"#
                                        : #"{"unsupported": [], "verdict": "faithful"}"#)
                    }
                    // The answer-key verifier: which keyword the image shows (by pHash), which option is right.
                    let lines = (Self.block("question", in: text) ?? "").split(separator: "\n").map(String.init)
                    let options = lines.dropFirst().map { String($0.dropFirst(3)) }
                    let image = ByteScan.dataURLImages((try? JSONSerialization.data(withJSONObject: body, options: [.withoutEscapingSlashes])) ?? Data()).first
                    let shown = image.flatMap { try? PerceptualHash.compute(data: $0, upright: true) }.flatMap { hash in
                        imageHashes.min { $0.hash.distance(to: hash) < $1.hash.distance(to: hash) }?.keyword
                    }
                    let type2 = options.allSatisfy { $0.count > 2 && $0.dropLast().hasSuffix(" ") }
                    let right = type2 ? options.firstIndex { $0.hasSuffix(" A") } : options.firstIndex { $0 == shown }
                    let (wrongKey, ambiguous) = verifier.disputes.withLock { $0 }
                    var answer = right ?? 0
                    if !type2 && shown == wrongKey { answer = (answer + 1) % max(options.count, 1) }
                    let isAmbiguous = type2 && shown == ambiguous
                    return .content(#"{"answer": "\#(QuestionVocabulary.letter(answer)!)", "ambiguous": \#(isAmbiguous), "reason": "the picture shows \#(shown ?? "nothing known")"}"#)
                }
                if schema == "mcq", let seed = body["seed"] {
                    var copy = body
                    copy["messages"] = (body["messages"] as? [Any] ?? []) + [["role": "system", "content": "seed \(seed)"]]
                    return PipelineChatResponder.respond(copy)
                }
                if let max = body["max_tokens"] as? Int, max <= 5 { return .content("A") }
                // The writer: a false visual claim in image-grounded descriptions of `fixable` until the verifier's
                // claims are fed back, and of `stubborn` always.
                let first = FakeChatEndpoint.firstUserText(body)
                let keyword = keywords.filter { first.contains($0) }.max { $0.count < $1.count } ?? ""
                let messages = body["messages"] as? [[String: Any]] ?? []
                let grounded = messages.contains { ($0["content"] as? [[String: Any]])?.contains { $0["type"] as? String == "image_url" } == true }
                let fedBack = messages.contains { $0["role"] as? String == "assistant" }
                guard case .content(let text, _) = PipelineChatResponder.respond(body) else { return PipelineChatResponder.respond(body) }
                let lie = grounded && (keyword == stubborn || (keyword == fixable && !fedBack))
                return .content(text + (lie ? " It has \(VerificationExperimentTests.marker) across the top." : ""))
            }
            server = try chat.serve()
            cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-verify-0123456789"])
            try recipe(keepDisputed: false).write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
            try recipe(keepDisputed: true).write(to: tmp.path("recipe-keep.yaml"), atomically: true, encoding: .utf8)
        }

        func recipe(keepDisputed: Bool) -> String {
            """
            name: verify-experiment
            keywords: keywords.csv
            contact: https://example.org/dsbuild-tests
            llm:
              model: fake-model
              concurrency: 4
              max_attempts: 2
              image_max_side: 256
            collect:
              per_keyword: 5
              sources:
                directory:
                  path: \(tmp.path("photos").path)
            filter:
              min_short_side: 100
              aspect_ratio: [0.3, 3.0]
            describe:
              aspects: [visual]
              modes: [image-grounded, text-only]
              languages: [en]
              images_per_keyword: 2
              max_attempts: 2
              verify: true
              verify_model: fake-verifier
            mcq:
              types: [1, 2]
              per_keyword: 1
              seed: 7
              verify: true
              verify_model: fake-verifier
              keep_disputed: \(keepDisputed)
            shards:
              out: shards
              exports: [mcq]
            eval:
              model: fake-model
              conditions: [with-image]

            """
        }

        /// The text between `<tag>\n` and `\n</tag>`.
        static func block(_ tag: String, in text: String) -> String? {
            guard let start = text.range(of: "<\(tag)>\n"), let end = text.range(of: "\n</\(tag)>", range: start.upperBound..<text.endIndex) else { return nil }
            return String(text[start.upperBound..<end.lowerBound])
        }

        @discardableResult
        func run(_ arguments: [String], expect status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandRunner.Result {
            let result = try cli.run(arguments + ["--workspace", workspace.path])
            #expect(result.status == status, "dsbuild \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(2000))",
                    sourceLocation: sourceLocation)
            return result
        }

        func json(_ arguments: [String], expect status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
            let result = try run(arguments + ["--json"], expect: status, sourceLocation: sourceLocation)
            return (try? result.json()) ?? [:]
        }

        func read<T>(_ body: (Database) throws -> T) throws -> T { try Workspace.open(at: workspace).manifest.read(body) }

        func useRecipe(keepDisputed: Bool) throws {
            let result = try cli.run(["init", workspace.path, "--recipe", tmp.path(keepDisputed ? "recipe-keep.yaml" : "recipe.yaml").path, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    struct Described { let keyword: String; let mode: String; let status: String; let reason: String?; let detail: String?; let text: String? }
    struct StoredQuestion: Equatable { let id: String; let keyword: String; let type: Int; let split: String; let status: String; let reason: String?; let options: String; let answer: Int }

    static func descriptions(_ f: Fixture) throws -> [Described] {
        try f.read { db in
            try Row.fetchAll(db, sql: "SELECT d.*, k.text AS keyword FROM descriptions d JOIN keywords k ON k.id = d.keyword_id ORDER BY d.id").map {
                Described(keyword: $0["keyword"], mode: $0["mode"], status: $0["status"], reason: $0["reason"], detail: $0["detail"], text: $0["text"])
            }
        }
    }

    static func verdicts(_ f: Fixture, _ judge: Judge) throws -> [(keyword: String, mode: String, row: JudgementRow)] {
        try f.read { db in
            let names = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, text FROM keywords").map { ($0["id"] as Int64, $0["text"] as String) })
            return try JudgementRow.all(of: judge, in: db).values.sorted { $0.subject < $1.subject }.map {
                (names[$0.keywordId ?? 0] ?? "", $0.imageSha256.isEmpty ? "text-only" : "image-grounded", $0)
            }
        }
    }

    static func questions(_ f: Fixture) throws -> [StoredQuestion] {
        try f.read { db in
            try Row.fetchAll(db, sql: """
                SELECT q.*, k.text AS keyword FROM questions q JOIN keywords k ON k.id = q.keyword_id WHERE q.origin = 'generated' ORDER BY q.id
                """).map {
                StoredQuestion(id: $0["id"], keyword: $0["keyword"], type: $0["type"], split: $0["split"], status: $0["status"], reason: $0["reason"],
                               options: $0["options"], answer: $0["answer"])
            }
        }
    }

    /// The shard record ids a question's copies carry (`t-`/`p-` + the short hash of its key, as `shards` derives them).
    static func recordIDs(_ id: String) -> [String] {
        let hash = String(ContentHash.sha256Hex(["qa", id].joined(separator: "\u{1F}")).prefix(16))
        return ["t-" + hash, "p-" + hash]
    }

    /// Whether any file under the shard folder's text and paired shards names one of `ids`' records.
    static func inShards(_ f: Fixture, _ id: String) throws -> Bool {
        let files = try RunFiles.all(f.workspace.appendingPathComponent("shards")).filter { $0.key.hasPrefix("text/") || $0.key.hasPrefix("paired/") }
        let needles = recordIDs(id).map { Data($0.utf8) }
        return files.values.contains { data in needles.contains { data.range(of: $0) != nil } }
    }

    @Test func verifiedDescriptionsAndAnswerKeysThroughTheCommands() throws {
        let f = try Fixture()
        defer { f.server.stop() }
        let initialized = try f.cli.run(["init", f.workspace.path, "--recipe", f.tmp.path("recipe.yaml").path, "--quiet"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        try f.run(["collect", "--quiet"])
        try f.run(["filter", "--quiet"])
        let kept = try f.read { db in try KeptPairs.all(in: db) }
        #expect(kept.count == 12)

        // MARK: Faithfulness — a verifier that answers 500 decides nothing.
        f.verifier.set(.down)
        let down = try f.run(["describe"], expect: 1)
        #expect(down.stderr.contains("faithfulness judge gave no verdict"), "\(down.stderr.suffix(1000))")
        var described = try Self.descriptions(f)
        let grounded = described.filter { $0.mode == "image-grounded" }
        #expect(grounded.count == 12 && grounded.allSatisfy { $0.status == "failed" && $0.reason == "verify_unavailable" }, "\(grounded.map { "\($0.status) \($0.reason ?? "")" })")
        #expect(!described.contains { $0.reason == "unfaithful" })
        #expect(try Self.verdicts(f, .faithfulness).allSatisfy { $0.row.verdict == "unverified" && $0.mode == "text-only" },
                "text-only descriptions with nothing faithful to check against are unverified, never faithful")

        // A healthy verifier: the failed items are verified; the fixable keyword's claim is fed back and fixed, the
        // stubborn one's is rejected after describe.max_attempts answers.
        f.verifier.set(.healthy)
        let askedBefore = f.chat.requestCount
        let healthy = try f.json(["describe"])
        #expect(healthy["verify_model"] as? String == "fake-verifier")
        described = try Self.descriptions(f)
        let fixed = described.filter { $0.keyword == f.fixable && $0.mode == "image-grounded" }
        #expect(fixed.count == 2 && fixed.allSatisfy { $0.status == "accepted" && $0.text?.contains(Self.marker) == false })
        let rejected = described.filter { $0.keyword == f.stubborn && $0.mode == "image-grounded" }
        #expect(rejected.count == 2 && rejected.allSatisfy { $0.status == "rejected" && $0.reason == "unfaithful" && $0.detail?.contains(Self.claim) == true },
                "\(rejected.map { "\($0.status) \($0.reason ?? "") \($0.detail ?? "")" })")
        let rewrites = f.chat.bodies.dropFirst(askedBefore).filter { body in
            body["response_format"] == nil && FakeChatEndpoint.firstUserText(body).contains(f.fixable)
                && (body["messages"] as? [[String: Any]])?.contains { $0["role"] as? String == "assistant" } == true
        }
        #expect(rewrites.count == 2 && rewrites.allSatisfy { FakeChatEndpoint.lastUserText($0).contains(Self.claim) },
                "the second request of each fixable description carries the claims")
        let faithfulness = try Self.verdicts(f, .faithfulness)
        func verdict(_ keyword: String, _ mode: String) -> [String] { faithfulness.filter { $0.keyword == keyword && $0.mode == mode }.map(\.row.verdict) }
        #expect(verdict(f.fixable, "image-grounded") == ["faithful", "faithful"])
        #expect(faithfulness.filter { $0.keyword == f.fixable && $0.mode == "image-grounded" }.allSatisfy {
            $0.row.detailObject["attempts"] as? Int == 2 && $0.row.detailObject["earlier_unsupported"] as? [[String]] == [[Self.claim]]
        })
        #expect(verdict(f.stubborn, "image-grounded") == ["unfaithful", "unfaithful"])
        #expect(verdict(f.fixable, "text-only") == ["faithful"], "checked against the fixable keyword's faithful descriptions now")
        #expect(verdict(f.stubborn, "text-only") == ["unverified"], "nothing faithful to check it against: not verified, and counted so")
        for keyword in f.keywords where keyword != f.stubborn {
            #expect(verdict(keyword, "image-grounded").allSatisfy { $0 == "faithful" } && verdict(keyword, "text-only") == ["faithful"], "\(keyword)")
        }

        // A rerun asks nothing.
        var asked = f.chat.requestCount
        try f.run(["describe", "--quiet"])
        #expect(f.chat.requestCount == asked, "a second describe made \(f.chat.requestCount - asked) requests")

        // status --json counts the verdicts per judge and keyword.
        var status = try f.json(["status"])
        var judgements = try #require(status["judgements"] as? [String: Any])
        let faithfulCounts = try #require((judgements["faithfulness"] as? [String: Any])?["verdicts"] as? [String: Int])
        #expect(faithfulCounts == ["faithful": 15, "minor": 0, "unfaithful": 2, "unverified": 1], "\(faithfulCounts)")
        let perKeyword = try #require((judgements["faithfulness"] as? [String: Any])?["by_keyword"] as? [String: [String: Int]])
        #expect(perKeyword[f.stubborn] == ["unfaithful": 2, "unverified": 1])
        #expect(judgements["descriptions_unfaithful"] as? Int == 2)

        // MARK: Answer keys — garbage and an exhausted quota dispute nothing.
        f.verifier.set(.garbage)
        let garbage = try f.run(["mcq"], expect: 1)
        #expect(garbage.stderr.contains("answer_key judge gave no verdict"), "\(garbage.stderr.suffix(1000))")
        // (Two Type 1 questions of one image set may be duplicates: those are rejected as such, as always.)
        let all = try Self.questions(f)
        #expect(all.allSatisfy { $0.status == "accepted" || $0.reason == "duplicate" }, "\(all.map { "\($0.status) \($0.reason ?? "")" })")
        let before = all.filter { $0.status == "accepted" }
        #expect(before.count > 10)
        #expect(try Self.verdicts(f, .answerKey).isEmpty)
        f.verifier.set(.quota)
        let quota = try f.run(["mcq", "--quiet"], expect: 2)
        #expect(quota.stderr.contains("mcq stopped") && quota.stderr.contains("insufficient_quota"), "\(quota.stderr.suffix(1000))")
        #expect(try Self.questions(f) == all)

        // A healthy verifier disputes the Type 1 keys of a keyword with a test and a training question, and finds the
        // Type 2 question of another keyword ambiguous; it moves no key.
        let wrongKey = try #require(f.keywords.first { keyword in
            Set(before.filter { $0.keyword == keyword && $0.type == 1 }.map(\.split)) == ["test", "train"]
        })
        let ambiguous = try #require(f.keywords.first { keyword in keyword != wrongKey && before.contains { $0.keyword == keyword && $0.type == 2 } })
        f.verifier.disputes.withLock { $0 = (wrongKey, ambiguous) }
        f.verifier.set(.healthy)
        let mcq = try f.json(["mcq"])
        let after = try Self.questions(f).filter { $0.reason != "duplicate" }
        #expect(after.map { "\($0.id) \($0.options) \($0.answer)" } == before.map { "\($0.id) \($0.options) \($0.answer)" }, "a stored key moved")
        let expectedDisputes = before.filter { ($0.type == 1 && $0.keyword == wrongKey) || ($0.type == 2 && $0.keyword == ambiguous) }
        let n = expectedDisputes.count
        #expect(n >= 3, "two Type 1 questions and a Type 2 one: \(expectedDisputes.map(\.id))")
        let disputed = after.filter { $0.status == "disputed" }
        #expect(disputed.map(\.id) == expectedDisputes.map(\.id))
        #expect(disputed.allSatisfy { $0.reason == ($0.type == 1 ? "wrong_key" : "ambiguous") })
        #expect(after.filter { $0.status != "disputed" }.allSatisfy { $0.status == "accepted" })
        let keyVerdicts = try Self.verdicts(f, .answerKey)
        #expect(keyVerdicts.count == before.count && keyVerdicts.allSatisfy { $0.row.model == "fake-verifier" })
        for q in disputed {
            let row = try #require(keyVerdicts.first { $0.row.subject == q.id }?.row)
            #expect(row.verdict == "disputed" && row.reason == "the picture shows \(q.keyword)")
            #expect(q.type == 2 || row.answer != QuestionVocabulary.letter(q.answer), "the verifier's own answer is stored")
        }
        #expect((mcq["disputes"] as? [String: Any])?["disputed"] as? Int == n)
        #expect(disputed.contains { $0.split == "test" } && disputed.contains { $0.split == "train" })

        asked = f.chat.requestCount
        try f.run(["mcq", "--quiet"])
        #expect(f.chat.requestCount == asked, "a second mcq made \(f.chat.requestCount - asked) requests")
        status = try f.json(["status"])
        judgements = try #require(status["judgements"] as? [String: Any])
        #expect((judgements["answer_key"] as? [String: Any])?["verdicts"] as? [String: Int] == ["confirmed": before.count - n, "disputed": n])
        #expect(((judgements["answer_key"] as? [String: Any])?["by_keyword"] as? [String: [String: Int]])?[wrongKey]?["disputed"]
                == before.filter { $0.keyword == wrongKey && $0.type == 1 }.count)
        #expect((status["questions"] as? [String: Any])?["disputed"] as? Int == n)
        let statusText = try f.run(["status"]).stdout
        #expect(statusText.contains("faithfulness: faithful 15, minor 0, unfaithful 2, unverified 1 (2 descriptions rejected as unfaithful)")
                && statusText.contains("answer_key: confirmed \(before.count - n), disputed \(n) (\(n) kept out, 0 kept by mcq.keep_disputed)"),
                "\(statusText)")

        // MARK: Kept out of the shards, the question files and eval.
        try f.run(["shards", "--quiet"])
        for q in disputed { #expect(try !Self.inShards(f, q.id), "disputed question \(q.id) is in the shards") }
        let confirmedTrain = after.filter { $0.status == "accepted" && $0.split == "train" }
        #expect(try confirmedTrain.contains { try Self.inShards(f, $0.id) }, "no confirmed question found in the shards: the scan would be vacuous")
        let questionFile = try String(contentsOf: f.workspace.appendingPathComponent("shards/exports/mcq_test/mcq_test.jsonl"), encoding: .utf8)
        for q in disputed { #expect(!questionFile.contains("\"\(q.id)\""), "disputed question \(q.id) is in the question file") }
        #expect(after.contains { $0.status == "accepted" && $0.split == "test" && questionFile.contains("\"\($0.id)\"") })
        let exported = f.tmp.path("export/questions.jsonl")
        try f.run(["mcq", "--export", exported.path, "--format", "dsbuild", "--quiet"])
        let exportedText = try String(contentsOf: exported, encoding: .utf8)
        for q in disputed { #expect(!exportedText.contains("\"\(q.id)\"")) }
        let eval = try f.json(["eval", "--condition", "with-image"])
        let scored = try #require(eval["by_type"] as? [String: [String: Any]]).values.compactMap { $0["n"] as? Int }.reduce(0, +)
        let testAccepted = after.filter { $0.status == "accepted" && $0.split == "test" }.count
        #expect(scored == testAccepted && disputed.contains { $0.split == "test" }, "eval scored \(scored) of \(testAccepted) accepted test questions")
        var check = try f.json(["check"])
        #expect(check["ok"] as? Bool == true, "\(check)")
        #expect(((check["judgements"] as? [String: Any])?["questions_disputed"] as? Int) == n)

        // The report shows each disputed question and unfaithful description with its reason, beside its image.
        try f.run(["report", "--quiet"])
        let html = try String(contentsOf: f.workspace.appendingPathComponent("report/index.html"), encoding: .utf8)
        let images = try f.read { db in
            Dictionary(try Row.fetchAll(db, sql: "SELECT id, image_sha256 FROM questions").map { ($0["id"] as String, $0["image_sha256"] as String) },
                       uniquingKeysWith: { a, _ in a })
        }
        for q in disputed {
            let sha = try #require(images[q.id])
            #expect(html.contains("data-sha256=\"\(sha)\"><figure class=\"dropped\"><img src=\"thumbs/\(sha).jpg\"") && html.contains(q.id),
                    "question \(q.id) is not shown beside its image")
        }
        #expect(html.contains("the picture shows \(wrongKey)") && html.contains("Descriptions rejected as unfaithful"))
        #expect(html.components(separatedBy: Self.claim).count - 1 >= 2, "each unfaithful description's claim is shown")

        // MARK: keep_disputed brings them back on the next mcq, without a request.
        try f.useRecipe(keepDisputed: true)
        asked = f.chat.requestCount
        let keep = try f.json(["mcq"])
        #expect(f.chat.requestCount == asked, "keep_disputed made requests")
        #expect((keep["disputes"] as? [String: Any])?["kept"] as? Int == n)
        #expect(try Self.questions(f).allSatisfy { $0.status == "accepted" || $0.reason == "duplicate" })
        try f.run(["shards", "--quiet"])
        for q in disputed { #expect(try Self.inShards(f, q.id) || q.split == "test", "kept question \(q.id) is not in the shards") }
        check = try f.json(["check"])
        #expect(check["ok"] as? Bool == true && (check["judgements"] as? [String: Any])?["questions_disputed_kept"] as? Int == n)

        // Back to the default without running mcq: check (a reader) names what is out of date; shards, which reads
        // the accepted questions, applies the recipe's keep_disputed first — no mcq needed, no request.
        try f.useRecipe(keepDisputed: false)
        check = try f.json(["check"], expect: 1)
        let applied = try #require((check["checks"] as? [String: [String: Any]])?["judgements_applied"])
        #expect(applied["ok"] as? Bool == false && (applied["violations"] as? Int ?? 0) >= n, "\(applied)")
        asked = f.chat.requestCount
        try f.run(["shards", "--quiet"])
        #expect(f.chat.requestCount == asked)
        #expect(try Self.questions(f).filter { $0.status == "disputed" }.map(\.id) == disputed.map(\.id))
        for q in disputed { #expect(try !Self.inShards(f, q.id), "disputed question \(q.id) is in the shards") }
        check = try f.json(["check"])
        #expect(check["ok"] as? Bool == true, "\(check)")
        try f.run(["mcq", "--quiet"])
        #expect(f.chat.requestCount == asked)
        #expect(try Self.questions(f).filter { $0.status == "disputed" }.map(\.id) == disputed.map(\.id))
    }
}
