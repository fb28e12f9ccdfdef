import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Synchronization
import Testing

/// `describe.verify` and `mcq.verify` as stages, over a workspace with kept K-Viscuit images and a scripted chat
/// service: what each verdict does to a description or a question, that failures decide nothing, and that a
/// rerun or another verifier model makes exactly the expected items pending.
@Suite struct VerifyStageTests {
    static let marker = "seven purple stripes"
    static let claim = "it has exactly seven purple stripes"

    /// The writer writes a plausible description; for `stubborn` keywords always with the false claim, for `fixable`
    /// ones with it until the verifier's claims are fed back. The verifier flags the claim; `verifierFails` makes it fail.
    final class Script: Sendable {
        let stubborn: Set<String>
        let fixable: Set<String>
        let verifierFails = Mutex<ChatError.Code?>(nil)

        init(stubborn: Set<String>, fixable: Set<String>) {
            self.stubborn = stubborn
            self.fixable = fixable
        }

        func answer(_ request: ChatRequest) throws(ChatError) -> String {
            if let schema = ScriptedChat.schemaName(request) {
                if let code = verifierFails.withLock({ $0 }) { throw ChatError(code, "HTTP 500 from 127.0.0.1: upstream failure") }
                guard schema == "faithfulness_judgement" else { return "" }
                let description = ScriptedChat.block("description", in: ScriptedChat.text(request)) ?? ""
                return description.contains(VerifyStageTests.marker)
                    ? #"{"unsupported": ["\#(VerifyStageTests.claim)"], "verdict": "unfaithful"}"#
                    : #"{"unsupported": [], "verdict": "faithful"}"#
            }
            let first = request.messages.first { $0.role == .user }.map { ScriptedChat.text(ChatRequest(model: "", messages: [$0], purpose: "")) } ?? ""
            let keyword = (stubborn.union(fixable).union(["Galbi"])).first { first.contains($0) } ?? "thing"
            let fedBack = request.messages.count > 2
            let grounded = !ScriptedChat.images(request).isEmpty
            let lie = grounded && (stubborn.contains(keyword) || (fixable.contains(keyword) && !fedBack))
            // Distinct wording per mode, so the near-duplicate step keeps both.
            let body = grounded
                ? "\(keyword) in this photograph lies on a white plate: a golden, crisp shell with a darker rim, small ridges pressed into the top, a split seam where the filling shows, and crumbs scattered around it on the plate."
                : "\(keyword) is a traditional street snack sold from carts in winter; vendors bake it in iron moulds, wrap it in paper bags, and people eat it warm while walking, so its look is familiar to nearly everyone who grew up in Korea."
            return body + " Attempt \(request.messages.count)." + (lie ? " It has \(VerifyStageTests.marker) across the top." : "")
        }
    }

    func describe(_ fixture: GenerateFixture, _ chat: ScriptedChat, verify: Bool = true, verifyModel: String? = nil) async throws -> StageSummary {
        var settings = DescribeSettings()
        settings.model = "writer"
        settings.modes = ["image-grounded", "text-only"]
        settings.maxAttempts = 2
        settings.verify = verify
        settings.ownVerifyModel = verifyModel
        return try await DescribeRun(settings: settings, client: chat, workspaceRoot: fixture.workspace.root).run(with: .quiet(fixture.workspace))
    }

    func descriptions(_ fixture: GenerateFixture) throws -> [String: (status: String, reason: String?, detail: String?, text: String?)] {
        try fixture.manifest.read { db in
            var out: [String: (String, String?, String?, String?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT d.*, k.text AS keyword FROM descriptions d JOIN keywords k ON k.id = d.keyword_id") {
                out["\(row["keyword"] as String)/\(row["mode"] as String)"] = (row["status"], row["reason"], row["detail"], row["text"])
            }
            return out
        }
    }

    func judgements(_ fixture: GenerateFixture) throws -> [JudgementRow] {
        try fixture.manifest.read { db in try JudgementRow.order(Column("subject")).fetchAll(db) }
    }

    @Test func anUnfaithfulDescriptionIsRewrittenWithTheClaimsThenAcceptedOrRejected() async throws {
        let fixture = try GenerateFixture(["Bungeo-ppang", "Hotteok", "Galbi"].map { KeywordEntry(text: $0, category: "food") })
        try fixture.addKeptImage("38.jpg", keyword: "Bungeo-ppang")
        try fixture.addKeptImage("10.jpg", keyword: "Hotteok")
        try fixture.addKeptImage("100.jpg", keyword: "Galbi")
        let script = Script(stubborn: ["Hotteok"], fixable: ["Bungeo-ppang"])
        let chat = ScriptedChat { request throws(ChatError) in try script.answer(request) }
        let summary = try await describe(fixture, chat)
        let rows = try descriptions(fixture)

        // Fixable: the first answer was judged unfaithful, the claim fed back, the rewrite judged faithful.
        #expect(rows["Bungeo-ppang/image-grounded"]?.status == "accepted")
        #expect(rows["Bungeo-ppang/image-grounded"]?.text?.contains(Self.marker) == false)
        let rewrite = try #require(chat.requests.first { $0.messages.count > 2 && ScriptedChat.text($0).contains("Bungeo-ppang") })
        #expect(rewrite.messages.last?.role == .user && ScriptedChat.lastUser(rewrite).contains(Self.claim), "the claim is fed back to the writer")
        #expect(rewrite.messages.dropLast().last?.role == .assistant)
        // Stubborn: still unfaithful after describe.max_attempts answers: rejected, the claim in the detail.
        #expect(rows["Hotteok/image-grounded"]?.status == "rejected" && rows["Hotteok/image-grounded"]?.reason == "unfaithful")
        #expect(rows["Hotteok/image-grounded"]?.detail?.contains(Self.claim) == true)
        #expect(chat.requests.filter { ScriptedChat.schemaName($0) == nil && ScriptedChat.text($0).contains("Hotteok") && !ScriptedChat.images($0).isEmpty }.count == 2)

        let verdicts = Dictionary(try judgements(fixture).map { ("\($0.keywordId ?? 0)/\($0.imageSha256.isEmpty ? "text-only" : "image-grounded")", $0) },
                                  uniquingKeysWith: { a, _ in a })
        let ids = try ["Bungeo-ppang", "Hotteok", "Galbi"].map { try fixture.keywordID($0) }
        #expect(verdicts["\(ids[0])/image-grounded"]?.verdict == "faithful")
        #expect(verdicts["\(ids[0])/image-grounded"]?.detailObject["attempts"] as? Int == 2)
        #expect(verdicts["\(ids[0])/image-grounded"]?.detailObject["earlier_unsupported"] as? [[String]] == [[Self.claim]])
        #expect(verdicts["\(ids[1])/image-grounded"]?.verdict == "unfaithful")
        #expect(verdicts["\(ids[2])/image-grounded"]?.verdict == "faithful")
        // Text-only: checked against the keyword's faithful image-grounded descriptions; Hotteok has none, so its
        // text-only description is accepted unverified — counted as such, never as faithful.
        #expect(verdicts["\(ids[0])/text-only"]?.verdict == "faithful")
        #expect(verdicts["\(ids[1])/text-only"]?.verdict == "unverified" && rows["Hotteok/text-only"]?.status == "accepted")
        let textRequest = try #require(chat.requests.first { ScriptedChat.schemaName($0) == "faithfulness_judgement" && ScriptedChat.images($0).isEmpty
            && ScriptedChat.text($0).contains("Bungeo-ppang") })
        #expect(ScriptedChat.block("reference", in: ScriptedChat.text(textRequest)) == rows["Bungeo-ppang/image-grounded"]?.text)
        #expect(summary.counts["faithful"] == 4 && summary.counts["rejected_unfaithful"] == 1 && summary.counts["unverified"] == 1, "\(summary.counts)")
        #expect(summary.failures == 0)

        // A rerun asks nothing; another verifier model makes every verdict pending again (the writer is not asked).
        let asked = chat.requests.count
        let again = try await describe(fixture, chat)
        #expect(again.pending == 0 && chat.requests.count == asked)
        let other = try await describe(fixture, chat, verifyModel: "stronger-judge")
        let afterOther = try descriptions(fixture)
        #expect(other.pending == 6, "every description, the rejected one included: \(other.counts) \(afterOther)")
        #expect(try judgements(fixture).allSatisfy { $0.model == "stronger-judge" })
        let counts = try fixture.manifest.read { db in try JudgementCounts.compute(db) }
        #expect(counts.verdicts["faithfulness"] == ["faithful": 4, "minor": 0, "unfaithful": 1, "unverified": 1], "\(counts.verdicts)")
        #expect(counts.unfaithfulRejected == 1)
    }

    @Test func aVerifierThatFailsRejectsNothingAndTheNextRunVerifies() async throws {
        let fixture = try GenerateFixture(["Bungeo-ppang", "Galbi"].map { KeywordEntry(text: $0, category: "food") })
        try fixture.addKeptImage("38.jpg", keyword: "Bungeo-ppang")
        let script = Script(stubborn: [], fixable: ["Bungeo-ppang"])
        script.verifierFails.withLock { $0 = .unavailable }
        let chat = ScriptedChat { request throws(ChatError) in try script.answer(request) }
        let failed = try await describe(fixture, chat)
        #expect(failed.failures == 1 && failed.counts["failed_verify_unavailable"] == 1, "\(failed.counts)")
        var rows = try descriptions(fixture)
        #expect(rows["Bungeo-ppang/image-grounded"]?.status == "failed" && rows["Bungeo-ppang/image-grounded"]?.reason == "verify_unavailable")
        #expect(!rows.values.contains { $0.reason == "unfaithful" })
        #expect(try judgements(fixture).allSatisfy { $0.verdict == "unverified" }, "no verdict but `unverified` text-only ones")

        // A fatal endpoint error stops the run: thrown, nothing recorded for the item.
        script.verifierFails.withLock { $0 = .insufficientQuota }
        await #expect { _ = try await describe(fixture, chat) } throws: { ($0 as? ChatError)?.isFatal == true }

        script.verifierFails.withLock { $0 = nil }
        let healthy = try await describe(fixture, chat)
        #expect(healthy.failures == 0)
        rows = try descriptions(fixture)
        #expect(rows["Bungeo-ppang/image-grounded"]?.status == "accepted" && rows["Bungeo-ppang/text-only"]?.status == "accepted", "\(rows) \(healthy)")
        // The text-only description left unverified is checked now that a faithful image-grounded one exists.
        let verdicts = try judgements(fixture)
        let bungeo = try fixture.keywordID("Bungeo-ppang")
        #expect(verdicts.filter { $0.keywordId == bungeo }.map(\.verdict) == ["faithful", "faithful"])
        #expect(verdicts.contains { $0.verdict == "unverified" }, "Galbi has no image: its text-only description stays unverified")
    }

    @Test func disputesChangeOnlyTheStatusAndKeepDisputedTakesThemBack() async throws {
        let fixture = try GenerateFixture(["Bungeo-ppang", "Hotteok", "Galbi", "Japchae"].map { KeywordEntry(text: $0, category: "food") })
        let sha = try fixture.addKeptImage("38.jpg", keyword: "Bungeo-ppang")
        let kid = try fixture.keywordID("Bungeo-ppang")
        // t1-a: keyed right; t1-b: keyed wrong (Galbi); t1-c: keyed right, but the verifier finds it ambiguous.
        let placed: [(String, [String], Int)] = [
            ("t1-a", ["Hotteok", "Bungeo-ppang", "Galbi", "Japchae"], 1),
            ("t1-b", ["Hotteok", "Galbi", "Bungeo-ppang", "Japchae"], 1),
            ("t1-c", ["Galbi", "Bungeo-ppang", "Hotteok", "Japchae"], 1),
        ]
        let questions = placed.map { id, options, key in
            Question(id: id, type: 1, question: "What is the name of the food in this image?", options: options, answer: key, category: "food",
                     split: "test", origin: "generated", keyword: "Bungeo-ppang", keywordID: kid, imageSHA256: sha)
        }
        try fixture.manifest.write { db in for q in questions { try QuestionStore.save(q, in: db) } }
        // The verifier knows the image shows Bungeo-ppang; it finds a question ambiguous when Galbi comes first.
        let chat = ScriptedChat { request in
            let text = ScriptedChat.text(request)
            if ScriptedChat.images(request).isEmpty { Issue.record("the verifier was not shown the image") }
            if text.contains("t1-") { Issue.record("the question id reached the verifier") }
            let lines = (ScriptedChat.block("question", in: text) ?? "").split(separator: "\n").dropFirst()
            let index = lines.firstIndex { $0.hasSuffix(". Bungeo-ppang") }.map { $0 - 1 } ?? 0
            let ambiguous = lines.first?.hasSuffix(". Galbi") == true
            return #"{"answer": "\#(QuestionVocabulary.letter(index)!)", "ambiguous": \#(ambiguous), "reason": "the fish shape"}"#
        }
        var settings = MCQSettings()
        settings.verify = true
        settings.ownVerifyModel = "verifier"
        let runner = StageRunner.quiet(fixture.workspace)
        let first = try await runner.run(try AnswerKeyStage(settings: settings, client: chat, workspaceRoot: fixture.workspace.root), concurrency: 2)
        #expect(first.counts == ["confirmed": 1, "disputed_wrong_key": 1, "disputed_ambiguous": 1], "\(first.counts)")
        let stored = { () throws -> [String: (status: String, reason: String?, options: [String], answer: Int)] in
            try fixture.manifest.read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, status, reason, options, answer FROM questions").map {
                    ($0["id"] as String, ($0["status"] as String, $0["reason"] as String?,
                                          JSONText.decode([String].self, from: $0["options"] as String) ?? [], $0["answer"] as Int))
                })
            }
        }
        var rows = try stored()
        #expect(rows["t1-a"]?.status == "accepted" && rows["t1-a"]?.reason == nil)
        #expect(rows["t1-b"]?.status == "disputed" && rows["t1-b"]?.reason == "wrong_key")
        #expect(rows["t1-c"]?.status == "disputed" && rows["t1-c"]?.reason == "ambiguous")
        for (id, options, key) in placed { #expect(rows[id]?.options == options && rows[id]?.answer == key, "\(id): no option or key moved") }
        let verdict = try #require(try fixture.manifest.read { db in try JudgementRow.all(of: .answerKey, in: db)["t1-b"] })
        #expect(verdict.answer == "C" && verdict.reason == "the fish shape" && verdict.model == "verifier" && verdict.verdict == "disputed")
        #expect(try fixture.manifest.read { db in try QuestionStore.accepted(in: db) }.map(\.id) == ["t1-a"])

        // keep_disputed, then not: only the status moves, and without a request.
        let asked = chat.requests.count
        let kept = try fixture.manifest.write { db in try DisputedQuestions.apply(keep: true, in: db) }
        let afterKeep = try stored()
        #expect(kept.kept == 2 && kept.changed == 2 && afterKeep.values.allSatisfy { $0.status == "accepted" && $0.reason == nil })
        let out = try fixture.manifest.write { db in try DisputedQuestions.apply(keep: false, in: db) }
        #expect(out.disputed == 2 && out.changed == 2)
        #expect(try stored().mapValues { $0.status } == rows.mapValues { $0.status } && chat.requests.count == asked)
        rows = try stored()

        // A rerun asks nothing; another verifier model asks again, disputed questions included.
        let again = try await runner.run(try AnswerKeyStage(settings: settings, client: chat, workspaceRoot: fixture.workspace.root), concurrency: 2)
        #expect(again.pending == 0 && chat.requests.count == asked)
        settings.ownVerifyModel = "another-verifier"
        let other = try await runner.run(try AnswerKeyStage(settings: settings, client: chat, workspaceRoot: fixture.workspace.root), concurrency: 2)
        #expect(other.pending == 3)

        // A verifier that fails disputes nothing: the question stays as it was, pending.
        settings.ownVerifyModel = "down-verifier"
        let down = ScriptedChat { _ throws(ChatError) in throw ChatError(.unavailable, "HTTP 503 from 127.0.0.1: overloaded") }
        let failed = try await runner.run(try AnswerKeyStage(settings: settings, client: down, workspaceRoot: fixture.workspace.root), concurrency: 2)
        #expect(failed.failures == 3 && failed.counts == ["failed_unavailable": 3])
        #expect(try stored().mapValues { $0.status } == rows.mapValues { $0.status })
        #expect(try fixture.manifest.read { db in try JudgementRow.all(of: .answerKey, in: db).values.allSatisfy { $0.model == "another-verifier" } })
    }
}
