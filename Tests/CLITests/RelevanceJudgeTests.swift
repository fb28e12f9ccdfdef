import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Issue 17's relevance judge through the commands (`init → collect → filter → describe → mcq → shards → eval →
/// check`) on real K-Viscuit photos, against a loopback endpoint that answers as a perfect verifier (it recognises
/// each image by its pixels). Planted: a photo of one keyword filed under another, a drawing that shows no keyword,
/// a thumbnail too small for the size rule, a keyword whose only photo shows a sibling, and an EXIF-rotated photo
/// the judge must be shown upright.
@Suite(.serialized) struct RelevanceJudgeTests {
    struct Planted {
        let tmp = TemporaryDirectory("dsbuild-relevance-e2e")
        var keywords: [String] = []
        /// Photo file → sha256 of its bytes.
        var sha: [String: String] = [:]
        var truth: [(image: Data, keyword: String)] = []
        var workspace: URL { tmp.path("ws") }

        init() throws {
            let items = try KViscuitFixture.type1Items().filter {
                $0.category == "Food" && !$0.keyword.contains("/")
                    && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let chosen = Array(items.filter { seen.insert($0.keyword).inserted }.prefix(6))
            try #require(chosen.count == 6)
            keywords = chosen.map(\.keyword)
            let folder = try PhotoFolder(root: tmp.path("photos"))
            func add(_ item: KViscuitFixture.Item, under keyword: Int) throws {
                let file = try folder.add(item, keyword: keywords[keyword])
                sha[item.imagePath] = ContentHash.sha256Hex(try Data(contentsOf: file))
            }
            for item in chosen { truth.append((try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)), item.keyword)) }
            try add(chosen[0], under: 0)
            try add(chosen[1], under: 0)  // a photo of keyword 2 filed under keyword 1
            try add(chosen[1], under: 1)
            try add(chosen[2], under: 2)
            try add(chosen[3], under: 3)
            try add(chosen[5], under: 4)  // keyword 5's only photo shows keyword 6
            try add(chosen[5], under: 5)
            let drawing = ImageFactory.blockJPEG(width: 640, height: 480) { x, y in (x + y) % 2 == 0 ? [250, 250, 250] : [20, 20, 160] }
            _ = try folder.add(drawing, named: "diagram.jpg", keyword: keywords[2], attribution: .madeByTest("diagram.jpg"))
            sha["diagram"] = ContentHash.sha256Hex(drawing)
            let small = ImageFactory.blockJPEG(width: 120, height: 90) { x, _ in x % 2 == 0 ? [200, 30, 30] : [30, 200, 30] }
            _ = try folder.add(small, named: "small.jpg", keyword: keywords[3], attribution: .madeByTest("small.jpg"))
            sha["small"] = ContentHash.sha256Hex(small)
            // An EXIF-rotated photo (orientation 8): the judge must be shown it upright to recognise it.
            _ = try folder.add(WorldImage.rotated8.data, named: WorldImage.rotated8.rawValue, keyword: keywords[3],
                               attribution: .madeByTest(WorldImage.rotated8.rawValue))
            sha["rotated"] = WorldImage.rotated8.sha
            truth.append((WorldImage.rotated8.data, keywords[3]))
            try ("keyword,category\r\n" + keywords.map { "\"\($0)\",food\r\n" }.joined()).write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try """
                name: relevance
                keywords: keywords.csv
                contact: https://example.org/dsbuild-tests
                llm:
                  model: fake-model
                  concurrency: 2
                  max_attempts: 1
                  image_max_side: 256
                collect:
                  sources:
                    directory:
                      path: \(tmp.path("photos").path)
                filter:
                  min_short_side: 200
                  aspect_ratio: [0.3, 3.0]
                  relevance:
                    enabled: true
                    siblings: 5
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                mcq:
                  types: [1]
                  per_keyword: 1
                  split_by: keyword
                  test_fraction: 0.3
                  seed: 3
                shards:
                  out: shards
                eval:
                  model: fake-model
                  conditions: [with-image]

                """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
        }

        func id(_ keyword: Int) -> String { keywords[keyword] }
    }

    /// The pairs the judge is asked about: every planted photo but the one the size rule drops.
    static let judgedPairs = 9

    static func relevanceRequests(_ chat: FakeChatEndpoint) -> Int {
        chat.bodies.filter { PerfectVerifier.schemaName($0) == "relevance_judgement" }.count
    }

    @Test func theJudgeDropsWhatAPerfectVerifierWouldAndOnlyThat() throws {
        let p = try Planted()
        let w = p.workspace.path
        let verifier = try PerfectVerifier(truth: p.truth)
        // First an endpoint that fails every judge request: nothing may be dropped for relevance.
        let down = FakeChatEndpoint(responder: { body in
            PerfectVerifier.schemaName(body) == "relevance_judgement" ? .error(status: 503, message: "overloaded") : PipelineChatResponder.respondAsAModel(body)
        })
        let downServer = try down.serve()
        defer { downServer.stop() }
        let cliDown = CommandRunner(environment: ["OPENAI_BASE_URL": downServer.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-relevance-0123456789"])
        #expect(try cliDown.run(["init", w, "--recipe", p.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        #expect(try cliDown.run(["collect", "--workspace", w, "--quiet"]).status == 0)
        let failed = try cliDown.run(["filter", "--workspace", w, "--quiet"])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("relevance undecided, the judge failed") && failed.stderr.contains("retried on the next filter run"), "\(failed.stderr)")
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass >= 0") == [["0"]])
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass = -1") == [["9"]])
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM kept_pairs") == [["0"]], "an undecided pair is not kept")

        // Then the perfect verifier: nine pairs asked (the thumbnail the size rule drops is never shown).
        let chat = FakeChatEndpoint(responder: { body in verifier.answerRelevance(body) ?? PipelineChatResponder.respondAsAModel(body) })
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-relevance-0123456789"])
        let filtered = try cli.run(["filter", "--workspace", w, "--json"])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        #expect(Self.relevanceRequests(chat) == 9)
        let options = chat.bodies.filter { PerfectVerifier.schemaName($0) == "relevance_judgement" }.map { FakeChatEndpoint.firstUserText($0) }
        #expect(options.allSatisfy { $0.hasSuffix("- \(RelevanceConfusions.noneOption)") && $0.contains("food subject") })
        let decisions = Dictionary(uniqueKeysWithValues: try Hardening.rows(p.workspace, """
            SELECT k.text || ' ' || d.image_sha256, d.pass || ' ' || d.value FROM filter_decisions d JOIN keywords k ON k.id = d.keyword_id
             WHERE d.rule = 'relevance'
            """).map { ($0[0], $0[1]) })
        let images = try KViscuitFixture.type1Items()
        func photo(_ keyword: Int) -> String { p.sha[images.first { $0.keyword == p.keywords[keyword] }!.imagePath]! }
        #expect(decisions.count == 9)
        #expect(decisions["\(p.id(3)) \(p.sha["rotated"]!)"] == "1 \(p.id(3))", "the rotated photo was shown upright and recognised")
        #expect(decisions["\(p.id(0)) \(photo(0))"] == "1 \(p.id(0))")
        #expect(decisions["\(p.id(0)) \(photo(1))"] == "0 \(p.id(1))", "keyword 2's photo under keyword 1 is dropped as keyword 2")
        #expect(decisions["\(p.id(1)) \(photo(1))"] == "1 \(p.id(1))")
        #expect(decisions["\(p.id(2)) \(p.sha["diagram"]!)"] == "0 \(RelevanceConfusions.noneOption)")
        #expect(decisions["\(p.id(4)) \(photo(5))"] == "0 \(p.id(5))")
        #expect(decisions["\(p.id(3)) \(p.sha["small"]!)"] == nil, "the judge was not asked about an image the size rule drops")
        let reason = try Hardening.rows(p.workspace, "SELECT reason FROM filter_decisions WHERE rule = 'relevance' AND image_sha256 = '\(photo(1))' AND pass = 0")
        #expect(reason.first?.first?.hasPrefix("shown as \"\(p.id(1))\" (0.90), not \"\(p.id(0))\"") == true, "\(reason)")

        // A rerun asks nothing.
        #expect(try cli.run(["filter", "--workspace", w, "--quiet"]).status == 0)
        #expect(Self.relevanceRequests(chat) == 9)

        // status: the confusion table and the likely label error.
        let status = try cli.run(["status", "--workspace", w, "--json"]).json()
        let relevance = try #require(status["relevance"] as? [String: Any])
        let confusions = try #require(relevance["confusions"] as? [String: [String: Any]])
        #expect(confusions[p.id(0)]?["judged"] as? Int == 2 && confusions[p.id(0)]?["shown"] as? Int == 1)
        #expect(confusions[p.id(0)]?["taken_for"] as? [String: Int] == [p.id(1): 1])
        #expect(confusions[p.id(2)]?["none"] as? Int == 1)
        let errors = try #require(relevance["likely_label_errors"] as? [[String: Any]])
        #expect(errors.count == 1 && errors.first?["keyword"] as? String == p.id(4) && errors.first?["taken_for"] as? String == p.id(5))

        // The rest of the pipeline: nothing the judge dropped reaches a shard.
        for command in ["describe", "mcq", "shards", "eval"] {
            let result = try cli.run([command, "--workspace", w, "--quiet"])
            #expect(result.status == 0, "\(command): \(result.stderr.suffix(2000))")
        }
        let dropped: Set<String> = ["\(p.id(0)) \(photo(1))", "\(p.id(2)) \(p.sha["diagram"]!)", "\(p.id(4)) \(photo(5))"]
        var samples = 0
        for (path, data) in try RunFiles.all(p.workspace.appendingPathComponent("shards")) where path.hasSuffix(".tar") {
            for member in try TarReading.members(data) where member.name.hasSuffix(".json") {
                guard let sample = try JSONSerialization.jsonObject(with: member.data) as? [String: Any],
                      let sha = sample["image_sha256"] as? String, let keyword = sample["keyword"] as? String else { continue }
                samples += 1
                #expect(!dropped.contains("\(keyword) \(sha)"), "\(path) \(member.name) pairs \(keyword) with an image the judge dropped for it")
            }
        }
        #expect(samples > 0)
        let check = try cli.run(["check", "--workspace", w, "--json"])
        #expect(check.status != 0)
        let checks = try #require(try check.json()["checks"] as? [String: [String: Any]])
        #expect(checks["relevance_confusions"]?["violations"] as? Int == 1)
        #expect((checks["relevance_confusions"]?["examples"] as? [String])?.first?.hasPrefix("keyword \(p.id(4)):") == true)
        #expect(checks.filter { $0.key != "relevance_confusions" }.allSatisfy { $0.value["ok"] as? Bool == true },
                "\(checks.filter { $0.value["ok"] as? Bool != true }.keys)")
        let report = try cli.run(["report", "--workspace", w, "--quiet"])
        #expect(report.status == 0)
    }
}
