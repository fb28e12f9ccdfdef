import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Synchronization
import Testing

/// A `ChatService` answered by a script, without the client: each request is recorded and answered by `answer`,
/// whose text passes the request's validator as the real client would demand (else `invalidOutput`).
final class ScriptedChat: ChatService {
    private let log = Mutex<[ChatRequest]>([])
    let answer: @Sendable (ChatRequest) throws(ChatError) -> String

    init(_ answer: @escaping @Sendable (ChatRequest) throws(ChatError) -> String) { self.answer = answer }

    var requests: [ChatRequest] { log.withLock { $0 } }

    func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        log.withLock { $0.append(request) }
        let text = try answer(request)
        if let problem = request.validator?(text) { throw ChatError(.invalidOutput, "after 1 answer: \(problem)") }
        return ChatResult(text: text, usage: ChatUsage(promptTokens: 10, completionTokens: 5), fromCache: false,
                          requestKey: ContentHash.sha256Hex("\(request.purpose)|\(Self.text(request))"), finishReason: "stop",
                          model: request.model, attempts: 1)
    }

    /// Every text part of every message, joined.
    static func text(_ request: ChatRequest) -> String {
        request.messages.flatMap(\.parts).compactMap { if case .text(let t) = $0 { t } else { nil } }.joined(separator: "\n")
    }

    static func lastUser(_ request: ChatRequest) -> String {
        guard let message = request.messages.last(where: { $0.role == .user }) else { return "" }
        return message.parts.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined(separator: "\n")
    }

    static func images(_ request: ChatRequest) -> [Data] {
        request.messages.flatMap(\.parts).compactMap { if case .image(let data, _) = $0 { data } else { nil } }
    }

    static func schemaName(_ request: ChatRequest) -> String? {
        if case .jsonSchema(let name, _) = request.responseFormat { return name }
        return nil
    }

    /// The text between `<tag>\n` and `\n</tag>` (the first such block), nil when there is none.
    static func block(_ tag: String, in text: String) -> String? {
        guard let start = text.range(of: "<\(tag)>\n"), let end = text.range(of: "\n</\(tag)>", range: start.upperBound..<text.endIndex) else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }
}

@Suite struct VerifyTests {
    static let image = "38.jpg"

    // MARK: Parsing

    @Test(arguments: [
        (#"{"unsupported": [], "verdict": "faithful"}"#, "faithful", 0),
        (#"{"unsupported": ["a red lid"], "verdict": "minor"}"#, "minor", 1),
        (#"{"unsupported": ["seven stripes", "a blue rim"], "verdict": "unfaithful"}"#, "unfaithful", 2),
        (#"{"unsupported": [], "verdict": "unfaithful"}"#, nil, 0),  // unfaithful must name a claim
        (#"{"unsupported": ["x"], "verdict": "mostly"}"#, nil, 0),
        (#"{"unsupported": "x", "verdict": "faithful"}"#, nil, 0),
        (#"{"unsupported": [3], "verdict": "faithful"}"#, nil, 0),
        (#"{"verdict": "faithful"}"#, nil, 0),
        ("faithful", nil, 0),
    ] as [(String, String?, Int)])
    func faithfulnessVerdictsParseOnlyInTheAskedShape(_ reply: String, _ verdict: String?, _ claims: Int) {
        let parsed = FaithfulnessJudge.parse(reply)
        #expect(parsed?.verdict.rawValue == verdict)
        #expect((parsed?.unsupported.count ?? 0) == claims)
    }

    @Test func anAnswerKeyIsDisputedWhenContradictedOrAmbiguous() {
        #expect(AnswerKeyJudge.parse(#"{"answer": "C", "ambiguous": false, "reason": "r"}"#, options: 4)?.answer == 2)
        #expect(AnswerKeyJudge.parse(#"{"answer": "E", "ambiguous": false, "reason": "r"}"#, options: 4) == nil, "no fifth option")
        #expect(AnswerKeyJudge.parse(#"{"answer": "B", "ambiguous": "no", "reason": "r"}"#, options: 4) == nil)
        #expect(AnswerKeyJudge.parse(#"{"answer": "AB", "ambiguous": false, "reason": "r"}"#, options: 4) == nil)
        let verdict = { (answer: Int, ambiguous: Bool) in AnswerKeyJudge.Verdict(answer: answer, ambiguous: ambiguous, reason: "", requestKey: "k") }
        #expect(verdict(1, false).dispute(key: 1) == nil)
        #expect(verdict(2, false).dispute(key: 1) == "wrong_key")
        #expect(verdict(2, true).dispute(key: 1) == "wrong_key")
        #expect(verdict(1, true).dispute(key: 1) == "ambiguous")
    }

    // MARK: Requests

    @Test func theFaithfulnessRequestCarriesTheDescriptionTheThumbnailAndTheOutOfScopeRule() async throws {
        let chat = ScriptedChat { _ in #"{"unsupported": ["a blue rim"], "verdict": "minor"}"# }
        let judge = try FaithfulnessJudge(service: chat, model: "judge-model", workspaceRoot: nil)
        let description = "Bungeo-ppang is a fish-shaped pastry.\nIt has a golden crust."
        let verdict = try await judge.judge(description: description, imageAt: TestPaths.kViscuitImages.appendingPathComponent(Self.image),
                                            keyword: "Bungeo-ppang", category: "food", item: "test")
        #expect(verdict.verdict == .minor && verdict.unsupported == ["a blue rim"] && verdict.accepts)
        let request = try #require(chat.requests.first)
        let text = ScriptedChat.text(request)
        #expect(ScriptedChat.block("description", in: text) == description)
        #expect(text.contains("history, culture") && text.contains("ecology") && text.contains("no photograph can show"))
        #expect(text.contains("\"Bungeo-ppang\""))
        #expect(request.model == "judge-model" && request.purpose == "describe.verify" && request.temperature == 0)
        #expect(ScriptedChat.schemaName(request) == "faithfulness_judgement")
        let image = try #require(ScriptedChat.images(request).first)
        let header = try #require(ImageHeader.read(image))
        #expect(header.format == "jpeg" && max(header.width, header.height) <= 512)

        let other = try FaithfulnessJudge(service: chat, model: "other-model", workspaceRoot: nil)
        #expect(other.settingsHash(.image) != judge.settingsHash(.image), "another verifier model makes every verdict stale")
        #expect(judge.settingsHash(.image) != judge.settingsHash(.descriptions))
    }

    @Test func aTextOnlyDescriptionIsCheckedAgainstTheReferencesWithoutAnImage() async throws {
        let chat = ScriptedChat { request in
            let text = ScriptedChat.text(request)
            return ScriptedChat.block("description", in: text)?.contains("blue") == true && text.contains("<reference>\nIt is red.\n</reference>")
                ? #"{"unsupported": ["it is blue"], "verdict": "unfaithful"}"# : #"{"unsupported": [], "verdict": "faithful"}"#
        }
        let judge = try FaithfulnessJudge(service: chat, model: "m", workspaceRoot: nil)
        let verdict = try await judge.judge(description: "It is blue.", references: ["It is red.", "It is round."], keyword: "Gat",
                                            category: "clothing", item: "test")
        #expect(verdict.verdict == .unfaithful && verdict.unsupported == ["it is blue"] && !verdict.accepts)
        let request = try #require(chat.requests.first)
        #expect(ScriptedChat.images(request).isEmpty)
        #expect(ScriptedChat.text(request).contains("<reference>\nIt is round.\n</reference>"))
    }

    @Test func theVerifierSeesTheImageDescriptionsQuestionAndOptionsButNotTheKey() async throws {
        let chat = ScriptedChat { _ in #"{"answer": "B", "ambiguous": false, "reason": "the rim is lacquered"}"# }
        let judge = try AnswerKeyJudge(service: chat, model: "verifier", workspaceRoot: nil)
        let q = Question(id: "t2-1-0", type: 2, question: "Which material is the brim made of?", options: ["Horsehair", "Bamboo", "Silk", "Felt"],
                         answer: 1, category: "clothing", keyword: "Gat", keywordID: 1, rationale: "SECRET-RATIONALE")
        let verdict = try await judge.judge(q, imageAt: TestPaths.kViscuitImages.appendingPathComponent(Self.image),
                                            descriptions: ["The gat is a black hat woven from horsehair and bamboo."])
        #expect(verdict.answer == 1 && !verdict.ambiguous && verdict.dispute(key: q.answer) == nil)
        let request = try #require(chat.requests.first)
        let text = ScriptedChat.text(request)
        #expect(ScriptedChat.block("question", in: text) == "Which material is the brim made of?\nA. Horsehair\nB. Bamboo\nC. Silk\nD. Felt")
        #expect(ScriptedChat.block("description", in: text) == "The gat is a black hat woven from horsehair and bamboo.")
        #expect(!text.contains("SECRET-RATIONALE") && !text.contains("Gat") && !text.lowercased().contains("key"),
                "neither the key, nor the keyword, nor the rationale is shown")
        #expect(ScriptedChat.images(request).count == 1)
        #expect(ScriptedChat.schemaName(request) == "answer_key_judgement" && request.purpose == "mcq.verify")
    }

    /// A keyword that itself contains a placeholder is inserted as written, not filled in turn.
    @Test func aKeywordContainingAPlaceholderIsInsertedAsWritten() {
        let template = JudgeTemplate(name: "faithfulness", text: FaithfulnessJudge.imagePrompt)
        let rendered = template.render(["keyword": "Bibimbap {category} </description>", "category": "food"])
        #expect(rendered.contains("the food \"Bibimbap {category} </description>\""), "\(rendered.prefix(120))")
        let aspect = AspectTemplate(aspect: "visual", text: "Describe {keyword} ({category}). Source title: {source_title}")
        #expect(aspect.render(["keyword": "K", "category": "c", "source_title": "{keyword} {x}"]) == "Describe K (c). Source title: {keyword} {x}")
    }

    @Test func aJudgeTemplateInTheWorkspaceReplacesTheBuiltInAndChangesTheSettingsHash() throws {
        let tmp = TemporaryDirectory("judge-template")
        let chat = ScriptedChat { _ in "" }
        let builtin = try AnswerKeyJudge(service: chat, model: "m", workspaceRoot: tmp.url)
        let folder = tmp.url.appendingPathComponent(JudgeTemplate.folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "Answer the question.".write(to: folder.appendingPathComponent("answer_key.txt"), atomically: true, encoding: .utf8)
        let custom = try AnswerKeyJudge(service: chat, model: "m", workspaceRoot: tmp.url)
        #expect(builtin.template.text == AnswerKeyJudge.prompt && custom.template.text == "Answer the question.")
        #expect(custom.settingsHash != builtin.settingsHash)
    }

    // MARK: Failures are not verdicts

    @Test(arguments: [
        (ChatError.Code.unavailable, JudgeError.Code.unavailable, false),
        (.timedOut, .unavailable, false),
        (.badRequest, .unavailable, false),
        (.invalidOutput, .noVerdict, false),
        (.refusal, .noVerdict, false),
        (.truncated, .noVerdict, false),
        (.insufficientQuota, .stopped, true),
        (.authentication, .stopped, true),
        (.cancelled, .unavailable, true),
    ])
    func aFailedJudgeCallIsNoVerdict(_ chatCode: ChatError.Code, _ expected: JudgeError.Code, _ stops: Bool) async throws {
        let chat = ScriptedChat { _ throws(ChatError) in throw ChatError(chatCode, "HTTP 500 from 127.0.0.1: boom") }
        let judge = try AnswerKeyJudge(service: chat, model: "m", workspaceRoot: nil)
        let q = Question(id: "q", type: 1, question: "What is it?", options: ["a", "b", "c", "d"], answer: 0)
        await #expect {
            _ = try await judge.judge(q, imageAt: nil, descriptions: [])
        } throws: { error in
            guard let error = error as? JudgeError else { return false }
            return error.code == expected && (error.stopsRun != nil) == stops && error.description.contains("question q")
                && error.description.contains("pending")
        }
    }

    /// A judge's non-answer is a failure to retry, so the client does not replay it from the cache on the next run;
    /// a good answer is replayed (no request), and a request that does not ask for this replays whatever it got.
    @Test func aCachedNonAnswerOfAJudgeIsAskedAgainAndAGoodOneIsNot() async throws {
        let healthy = Mutex(false)
        let endpoint = FakeChatEndpoint { _ in
            healthy.withLock { $0 } ? .content(#"{"answer": "B", "ambiguous": false, "reason": "r"}"#) : .content("Looks fine to me.")
        }
        let (client, _, dir) = try makeClient(endpoint, maxReasks: 1)
        _ = dir
        let judge = try AnswerKeyJudge(service: client, model: "verifier", workspaceRoot: nil)
        let q = Question(id: "q", type: 2, question: "Which part is lacquered?", options: ["Brim", "Crown", "Strap", "Bead"], answer: 1)
        await #expect { _ = try await judge.judge(q, imageAt: nil, descriptions: []) } throws: { ($0 as? JudgeError)?.code == .noVerdict }
        #expect(endpoint.requestCount == 2, "the first answer and one re-ask")

        // Without the opt-in, the client replays the cached non-answers: a decision-making caller sees the same.
        var plain = ChatRequest(model: "verifier", messages: [.user("Which part?")], temperature: 0, responseFormat: .jsonSchema(name: "x", schema: AnswerKeyJudge.schema(options: 4)),
                                purpose: "test")
        await #expect(throws: ChatError.self) { _ = try await client.complete(plain) }
        let afterPlain = endpoint.requestCount
        await #expect(throws: ChatError.self) { _ = try await client.complete(plain) }
        #expect(endpoint.requestCount == afterPlain, "a plain request replays its cached answers")
        plain.replaysOnlyValidAnswers = true
        await #expect(throws: ChatError.self) { _ = try await client.complete(plain) }
        #expect(endpoint.requestCount == afterPlain + 2, "with the opt-in, both cached non-answers are asked again")

        healthy.withLock { $0 = true }
        let verdict = try await judge.judge(q, imageAt: nil, descriptions: [])
        #expect(verdict.answer == 1 && endpoint.requestCount == afterPlain + 3, "the cached non-answer was asked again, once")
        let again = try await judge.judge(q, imageAt: nil, descriptions: [])
        #expect(again == verdict && endpoint.requestCount == afterPlain + 3, "a good answer comes from the cache")
    }

    @Test func aReplyThatIsNoVerdictIsAFailureNotADecision() async throws {
        let chat = ScriptedChat { _ in #"{"answer": "Z", "ambiguous": false, "reason": ""}"# }
        let judge = try AnswerKeyJudge(service: chat, model: "m", workspaceRoot: nil)
        let q = Question(id: "q", type: 1, question: "What is it?", options: ["a", "b", "c", "d"], answer: 0)
        await #expect(throws: JudgeError.self) { _ = try await judge.judge(q, imageAt: nil, descriptions: []) }
        let unreadable = try FaithfulnessJudge(service: chat, model: "m", workspaceRoot: nil)
        await #expect {
            _ = try await unreadable.judge(description: "x", imageAt: URL(fileURLWithPath: "/nonexistent.jpg"), keyword: "k", category: "c", item: "d")
        } throws: { ($0 as? JudgeError)?.code == .unreadableImage }
        #expect(chat.requests.count == 1, "an unreadable image asks nothing")
    }
}
