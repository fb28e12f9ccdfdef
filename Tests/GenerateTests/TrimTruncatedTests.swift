import _DSBuildTestSupport
import Dataset
import Foundation
@testable import Generate
import GRDB
import Logging
import Testing

/// A description cut at `max_tokens` (`finish_reason: length`): rejected as `truncated` by default; under
/// `llm.local.trim_truncated` its last whole sentence is kept and the trim recorded on the accepted row.
@Suite struct TrimTruncatedTests {
    /// Answers every request with `text`, reporting it cut at `max_tokens`.
    final class CutChat: ChatService {
        let text: String
        init(_ text: String) { self.text = text }
        func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
            ChatResult(text: text, usage: ChatUsage(promptTokens: 10, completionTokens: 160), fromCache: false,
                       requestKey: ContentHash.sha256Hex(text), finishReason: "length", model: request.model, attempts: 1)
        }
    }

    static let cut = "Galbi is grilled beef short rib, cut thin across the bone and marinated in soy sauce, pear and garlic. "
        + "The meat turns a glossy dark brown with charred edges over charcoal, and it is served with lettuce leaves, "
        + "sliced garlic and ssamjang for wrapping. Diners cut the ribs with scissors at the table while the"

    @Test(arguments: [false, true])
    func cutDescriptionIsTrimmedOnlyUnderALocalModel(_ local: Bool) async throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food")])
        var settings = DescribeSettings()
        settings.maxTokens = 160
        if local { settings.llm.localModel = "/m/model.gguf" }
        let stage = try DescribeStage(settings: settings, client: CutChat(Self.cut), workspaceRoot: fixture.workspace.root)
        let runner = StageRunner(manifest: fixture.manifest, progress: ProgressReporter(style: .quiet), logger: Logger(label: "t"))
        _ = try await runner.run(stage, concurrency: 1)
        let row = try #require(try fixture.rows().first)
        let (status, reason, text, detail): (String, String?, String?, String?) = (row["status"], row["reason"], row["text"], row["detail"])
        if local {
            #expect(status == "accepted" && reason == "trimmed")
            #expect(text?.hasSuffix("for wrapping.") == true && text?.contains("while the") == false)
            #expect(detail?.contains("cut at max_tokens (160)") == true)
        } else {
            #expect(status == "rejected" && reason == "truncated")
        }
    }

    /// Answers with a whole description (`stop`) and counts the requests.
    final class WholeChat: ChatService, @unchecked Sendable {
        private let lock = NSLock()
        private var asked = 0
        var requests: Int { lock.withLock { asked } }
        func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
            lock.withLock { asked += 1 }
            let text = String(TrimTruncatedTests.cut.prefix { $0 != "D" }).trimmingCharacters(in: .whitespaces)
            return ChatResult(text: text, usage: ChatUsage(promptTokens: 10, completionTokens: 60), fromCache: false,
                              requestKey: ContentHash.sha256Hex(text), finishReason: "stop", model: request.model, attempts: 1)
        }
    }

    @Test func aDescriptionCutAtOneLimitIsAskedAgainWhenTheLimitChanges() async throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food")])
        let runner = StageRunner(manifest: fixture.manifest, progress: ProgressReporter(style: .quiet), logger: Logger(label: "t"))
        var settings = DescribeSettings()
        settings.maxTokens = 1
        _ = try await runner.run(try DescribeStage(settings: settings, client: CutChat(Self.cut), workspaceRoot: fixture.workspace.root), concurrency: 1)
        #expect(try fixture.rows().map { $0["reason"] as String? } == ["truncated"])
        // The same limit: the rejection stands, nothing is asked.
        let same = WholeChat()
        _ = try await runner.run(try DescribeStage(settings: settings, client: same, workspaceRoot: fixture.workspace.root), concurrency: 1)
        #expect(same.requests == 0)
        // A raised limit: the item is pending again and its row replaced by the new answer.
        settings.maxTokens = 400
        let raised = WholeChat()
        _ = try await runner.run(try DescribeStage(settings: settings, client: raised, workspaceRoot: fixture.workspace.root), concurrency: 1)
        #expect(raised.requests == 1)
        let rows = try fixture.rows()
        #expect(rows.count == 1 && rows[0]["status"] as String == "accepted", "\(rows)")
    }

    @Test(arguments: [
        ("One. Two three", "One."),
        ("He said \"yes.\" Then he", "He said \"yes.\""),
        ("Ends exactly here.", nil),
        ("No sentence end at all", nil),
        ("First! Second? Third and", "First! Second?"),
    ] as [(String, String?)])
    func lastWholeSentenceDropsTheCutTail(_ input: String, _ expected: String?) {
        #expect(SentenceTrim.lastWholeSentences(input) == expected)
    }
}
