import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Logging
import Testing

/// A workspace with keywords (and optionally kept K-Viscuit images), for describe and mcq tests.
struct GenerateFixture {
    let directory = TemporaryDirectory("gen-ws")
    let workspace: Workspace

    init(_ keywords: [KeywordEntry]) throws {
        workspace = try Workspace.create(at: directory.url)
        _ = try KeywordStore.insert(keywords, into: workspace.manifest)
    }

    var manifest: Manifest { workspace.manifest }

    func keywordID(_ text: String) throws -> Int64 {
        try manifest.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [text])! }
    }

    /// Copies a K-Viscuit image into the workspace and marks it kept for `keyword` (all decisions pass).
    @discardableResult
    func addKeptImage(_ file: String, keyword: String, pass: Bool = true) throws -> String {
        let source = TestPaths.kViscuitImages.appendingPathComponent(file)
        let data = try Data(contentsOf: source)
        let sha = LLMCache.key(for: data)
        let relative = "images/\(sha.prefix(2))/\(sha).jpg"
        let target = workspace.root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: target)
        let id = try keywordID(keyword)
        try manifest.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO images (sha256, path, bytes, format, width, height, display_width, display_height, created_at)
                VALUES (?, ?, ?, 'jpeg', 800, 600, 800, 600, 0)
                """, arguments: [sha, relative, data.count])
            for (rule, ok) in [("min_size", true), ("phash_dedup", pass)] {
                try db.execute(sql: """
                    INSERT INTO filter_decisions (image_sha256, keyword_id, rule, settings_hash, pass, decided_at)
                    VALUES (?, ?, ?, 'h', ?, 0)
                    """, arguments: [sha, id, rule, ok])
            }
        }
        return sha
    }

    func rows() throws -> [Row] {
        try manifest.read { db in try Row.fetchAll(db, sql: "SELECT d.*, k.text AS keyword FROM descriptions d JOIN keywords k ON k.id = d.keyword_id ORDER BY k.text, aspect, variant") }
    }
}

/// A plausible description of the keyword named in the prompt (first keyword of `keywords` found in it).
func describingResponder(_ keywords: [String], suffix: @escaping @Sendable (String, [String: Any]) -> String = { _, _ in "" }) -> @Sendable ([String: Any]) -> FakeChatEndpoint.Behaviour {
    { body in
        let prompt = FakeChatEndpoint.firstUserText(body)
        let keyword = keywords.first { prompt.contains($0) } ?? "thing"
        let aspect = prompt.contains("history") ? "cultural history" : "appearance"
        let seed = body["seed"] as? Int ?? 0
        return .content("\(keyword) is described here by its \(aspect). It has a distinctive shape, a warm golden colour and a crisp surface with fine patterns pressed into it; people recognise it by the mould it is baked in and by the filling that shows at the seam. Variant seed \(seed) adds its own details about texture number \(seed * 7 + 3) and region \(seed * 13 + 1).\(suffix(keyword, body))")
    }
}

func runDescribe(_ fixture: GenerateFixture, _ endpoint: FakeChatEndpoint, settings: DescribeSettings) async throws -> StageSummary {
    let (client, _, dir) = try makeClient(endpoint, workspace: fixture.workspace, maxReasks: settings.maxAttempts - 1)
    _ = dir
    let stage = try DescribeStage(settings: settings, client: client, workspaceRoot: fixture.workspace.root)
    let runner = StageRunner(manifest: fixture.manifest, progress: ProgressReporter(style: .quiet), logger: Logger(label: "test"))
    let summary = try await runner.run(stage, concurrency: settings.concurrency)
    try DescriptionDeduplication.apply(in: fixture.manifest, threshold: settings.dedupThreshold)
    return summary
}

@Suite struct DescribeTests {
    let keywords = ["Bungeo-ppang", "Hwangnam-ppang", "Galbi"]

    @Test func textOnlyDescriptionsAreWrittenOnceAndRerunsMakeNoRequests() async throws {
        let fixture = try GenerateFixture(keywords.map { KeywordEntry(text: $0, category: "food") })
        let endpoint = FakeChatEndpoint(responder: describingResponder(keywords))
        var settings = DescribeSettings()
        settings.aspects = ["visual", "cultural"]
        settings.model = "fake-model"
        let summary = try await runDescribe(fixture, endpoint, settings: settings)
        #expect(summary.pending == 6)
        #expect(summary.counts == ["ok": 6])
        #expect(endpoint.requestCount == 6)
        let rows = try fixture.rows()
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0["status"] as String == "accepted" && $0["mode"] as String == "text-only" })
        let visual = try #require(try AspectTemplate.load(aspect: "visual", directory: nil))
        #expect(rows.filter { $0["aspect"] as String == "visual" }.allSatisfy { $0["template_sha256"] as String == visual.sha256 })
        #expect(rows.allSatisfy { ($0["prompt_tokens"] as Int) == 100 && ($0["request_key"] as String?) != nil })
        // The prompt carries the placeholders' values.
        #expect(endpoint.bodies.contains { FakeChatEndpoint.lastUserText($0).contains("Galbi (food)") })

        let again = try await runDescribe(fixture, endpoint, settings: settings)
        #expect(again.pending == 0)
        #expect(endpoint.requestCount == 6)
    }

    @Test func rejectionsAndFailuresAreRecordedWithReasons() async throws {
        let all = ["Kimchi", "Galbi", "Yakgwa", "Songpyeon", "Bossam", "Japchae"]
        let fixture = try GenerateFixture(all.map { KeywordEntry(text: $0, category: "food", language: $0 == "Yakgwa" || $0 == "Japchae" ? "ko" : "en") })
        let good = describingResponder(all)
        let endpoint = FakeChatEndpoint { body in
            let prompt = FakeChatEndpoint.firstUserText(body)
            if prompt.contains("Kimchi") { return .content("I'm sorry, but I can't help with describing that item.") }
            if prompt.contains("Galbi") { return .content("Galbi is grilled ribs.") }
            if prompt.contains("Songpyeon") { return good(["messages": [["role": "user", "content": "Yakgwa"]]]) }
            if prompt.contains("Bossam") { return .error(status: 500, message: "upstream failure") }
            if prompt.contains("Japchae") {
                return .content("잡채는 당면과 여러 가지 채소, 고기를 간장 양념에 볶아 만든 한국의 전통 음식이다. 윤기 나는 투명한 면발 사이로 시금치의 초록색, 당근의 주황색, 표고버섯의 갈색이 어우러져 화려한 색감을 낸다. 잔칫상과 명절 상차림에 빠지지 않으며 달콤하고 고소한 맛이 특징이다. 접시에 가지런히 담아 깨를 뿌려 낸다. 면은 쫄깃하고 채소는 아삭하여 씹는 맛이 좋다. 고기는 가늘게 채 썰어 양념에 재운 뒤 볶는다.")
            }
            return good(body)
        }
        var settings = DescribeSettings()
        settings.model = "fake-model"
        let summary = try await runDescribe(fixture, endpoint, settings: settings)
        let byKeyword = Dictionary(uniqueKeysWithValues: try fixture.rows().map { ($0["keyword"] as String, $0) })
        #expect(byKeyword["Kimchi"]?["reason"] as String? == "refusal")
        #expect(byKeyword["Galbi"]?["reason"] as String? == "too_short")
        #expect(byKeyword["Yakgwa"]?["reason"] as String? == "wrong_language")
        #expect(byKeyword["Songpyeon"]?["reason"] as String? == "other_keyword")
        #expect(byKeyword["Bossam"]?["status"] as String? == "failed")
        #expect(byKeyword["Bossam"]?["reason"] as String? == "unavailable")
        #expect(byKeyword["Japchae"]?["status"] as String? == "accepted")
        #expect(byKeyword["Japchae"]?["language"] as String? == "ko")
        #expect(summary.failures == 1)
        #expect(summary.counts["rejected_refusal"] == 1)
        // The failed one is pending again; rejected ones are not.
        let failing = endpoint.requestCount
        let again = try await runDescribe(fixture, endpoint, settings: settings)
        #expect(again.pending == 1)
        #expect(endpoint.requestCount > failing)
    }

    /// A rejected description is asked again with the reason fed back (up to `max_attempts` answers); one that is
    /// rejected every time is recorded with the last answer and reason.
    @Test func rejectedDescriptionsAreReaskedWithTheReason() async throws {
        let all = ["Galbi", "Kimchi", "Yakgwa"]
        let fixture = try GenerateFixture(all.map { KeywordEntry(text: $0, category: "food") })
        let good = describingResponder(all)
        let endpoint = FakeChatEndpoint { body in
            let task = FakeChatEndpoint.firstUserText(body), last = FakeChatEndpoint.lastUserText(body)
            if task.contains("Galbi") && !last.contains("Your reply was rejected") { return .content("Galbi is grilled ribs.") }
            if task.contains("Kimchi") { return .content("I'm sorry, but I can't describe that.") }
            return good(body)
        }
        var settings = DescribeSettings()
        settings.model = "fake-model"
        settings.maxAttempts = 3
        let summary = try await runDescribe(fixture, endpoint, settings: settings)
        let rows = Dictionary(uniqueKeysWithValues: try fixture.rows().map { ($0["keyword"] as String, $0) })
        #expect(rows["Galbi"]?["status"] as String? == "accepted")
        #expect((rows["Galbi"]?["text"] as String?)?.hasPrefix("Galbi is described here") == true)
        #expect(rows["Kimchi"]?["status"] as String? == "rejected" && rows["Kimchi"]?["reason"] as String? == "refusal")
        #expect(rows["Kimchi"]?["text"] as String? == "I'm sorry, but I can't describe that.")
        #expect(rows["Yakgwa"]?["status"] as String? == "accepted")
        #expect(summary.counts["rejected_refusal"] == 1 && summary.failures == 0)
        let galbi = endpoint.bodies.filter { FakeChatEndpoint.firstUserText($0).contains("Galbi") }
        let kimchi = endpoint.bodies.filter { FakeChatEndpoint.firstUserText($0).contains("Kimchi") }
        #expect(galbi.count == 2 && kimchi.count == 3)
        // The re-ask carries the rejected answer and the reason.
        let reask = try #require(galbi.last)
        let messages = try #require(reask["messages"] as? [[String: Any]])
        #expect(messages.contains { $0["role"] as? String == "assistant" && $0["content"] as? String == "Galbi is grilled ribs." })
        #expect(FakeChatEndpoint.lastUserText(reask).contains("too short (22 characters, at least"))

        // One attempt: no re-ask.
        let single = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food")])
        let once = FakeChatEndpoint { _ in .content("Galbi is grilled ribs.") }
        settings.maxAttempts = 1
        _ = try await runDescribe(single, once, settings: settings)
        #expect(once.requestCount == 1)
        #expect(try single.rows().first?["reason"] as String? == "too_short")
    }

    @Test func variantsUseTheirOwnSeedsAndNearDuplicatesAreDropped() async throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food"), KeywordEntry(text: "Yukhoe", category: "food")])
        let endpoint = FakeChatEndpoint { body in
            let prompt = FakeChatEndpoint.lastUserText(body)
            // Galbi's variants come back identical but for one word: near-duplicates.
            if prompt.contains("Galbi") {
                return .content("Galbi is a Korean dish of marinated beef short ribs grilled over charcoal, glazed dark brown with soy sauce, pear and garlic, cut across the bone into thin strips and served with lettuce leaves, sesame oil and a dab of fermented bean paste at family gatherings. Seed \((body["seed"] as? Int ?? 0) > 0 ? "one" : "zero").")
            }
            return describingResponder(["Yukhoe"])(body)
        }
        var settings = DescribeSettings()
        settings.model = "fake-model"
        settings.perKeyword = 3
        settings.seed = 40
        _ = try await runDescribe(fixture, endpoint, settings: settings)
        #expect(Set(endpoint.bodies.compactMap { $0["seed"] as? Int }) == [40, 41, 42])
        let temperatures = Set(endpoint.bodies.compactMap { $0["temperature"] as? Double })
        #expect(temperatures.count == 3)
        let rows = try fixture.rows()
        let galbi = rows.filter { $0["keyword"] as String == "Galbi" }
        #expect(galbi.filter { $0["status"] as String == "accepted" }.count == 1)
        #expect(galbi.filter { $0["reason"] as String? == "near_duplicate" }.count == 2)
        // The fixed order keeps variant 0, whichever reply arrived first.
        #expect(galbi.first { $0["status"] as String == "accepted" }?["variant"] as Int? == 0)
        #expect(rows.filter { $0["keyword"] as String == "Yukhoe" && $0["status"] as String == "accepted" }.count == 3)
    }

    @Test func imageGroundedModeSendsTheKeptImageAsADataURL() async throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Bungeo-ppang", category: "food"), KeywordEntry(text: "Galbi", category: "food")])
        let sha = try fixture.addKeptImage("1.jpg", keyword: "Bungeo-ppang")
        try fixture.addKeptImage("10.jpg", keyword: "Galbi", pass: false)
        let endpoint = FakeChatEndpoint(responder: describingResponder(["Bungeo-ppang", "Galbi"]))
        var settings = DescribeSettings()
        settings.model = "fake-model"
        settings.modes = ["image-grounded", "text-only"]
        _ = try await runDescribe(fixture, endpoint, settings: settings)
        let rows = try fixture.rows()
        let grounded = rows.filter { $0["mode"] as String == "image-grounded" }
        #expect(grounded.count == 1)   // Galbi's image was not kept
        #expect(grounded.first?["image_sha256"] as String? == sha)
        #expect(rows.filter { $0["mode"] as String == "text-only" }.count == 2)
        let imageBodies = endpoint.bodies.filter { body in
            ((body["messages"] as? [[String: Any]]) ?? []).contains { ($0["content"] as? [[String: Any]])?.contains { $0["type"] as? String == "image_url" } == true }
        }
        #expect(imageBodies.count == 1)
        let parts = try #require((imageBodies[0]["messages"] as? [[String: Any]])?.last?["content"] as? [[String: Any]])
        let url = try #require((parts.last?["image_url"] as? [String: Any])?["url"] as? String)
        #expect(url.hasPrefix("data:image/jpeg;base64,/9j/"))
    }

    @Test func exhaustedQuotaStopsTheRun() async throws {
        let fixture = try GenerateFixture(keywords.map { KeywordEntry(text: $0, category: "food") })
        let endpoint = FakeChatEndpoint { _ in .insufficientQuota }
        var settings = DescribeSettings()
        settings.model = "fake-model"
        settings.concurrency = 1
        await #expect { try await runDescribe(fixture, endpoint, settings: settings) } throws: { error in
            (error as? ChatError)?.code == .insufficientQuota
        }
        #expect(endpoint.requestCount == 1)
        let status = try fixture.manifest.read { db in try String.fetchOne(db, sql: "SELECT status FROM runs ORDER BY id DESC LIMIT 1") }
        #expect(status == "error")
    }

    @Test(arguments: [
        ("잡채는 당면과 채소를 볶아 만든 음식으로 잔칫상에 오른다.", "ko", true),
        ("Japchae is a dish of glass noodles stir-fried with vegetables.", "ko", false),
        ("Japchae is a dish of glass noodles stir-fried with vegetables.", "en", true),
        ("Le japchae est un plat de nouilles sautées aux légumes.", "fr", true),
        ("チャプチェは春雨と野菜を炒めた韓国料理です。", "ja", true),
    ])
    func scriptCheckMatchesLanguage(_ text: String, _ language: String, _ ok: Bool) {
        #expect((DescriptionValidator.scriptProblem(text, language: language) == nil) == ok)
    }

    @Test func templatesRenderPlaceholdersAndDropEmptySourceLines() throws {
        let template = AspectTemplate(aspect: "x", text: "About {keyword} ({category}) in {language}.\nSource title: {source_title}\nEnd.")
        #expect(template.render(["keyword": "gat", "category": "hat", "language": "Korean"]) == "About gat (hat) in Korean.\nEnd.")
        #expect(template.render(["keyword": "gat", "category": "hat", "language": "Korean", "source_title": "Gat.jpg"]).contains("Source title: Gat.jpg"))
        #expect(template.sha256.count == 64)
    }
}
