import Dataset
@testable import Filter
import Foundation
import Testing
import _DSBuildTestSupport

/// The relevance judge's request (prompt with the options, an upright JPEG thumbnail, a schema whose `choice` is an
/// enum of the options) and its reading of the reply.
@Suite struct VLMRelevanceJudgeTests {
    static let options = ["Viceroy", "Monarch", "Queen", RelevanceConfusions.noneOption]

    func anyImage() throws -> URL {
        let item = try #require(try KViscuitFixture.type1Items().first {
            FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
        })
        return TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)
    }

    @Test func theRequestListsTheOptionsAndHoldsTheChoiceToThemVerbatim() async throws {
        let chat = ScriptedChat { _ in #"{"choice": "Monarch", "confidence": 0.9, "reason": "orange with black veins"}"# }
        let judge = VLMRelevanceJudge(service: chat, model: "vision-model", maxSide: 200)
        let verdict = try await judge.judge(imageAt: try anyImage(), options: Self.options, category: "butterfly")
        #expect(verdict == RelevanceVerdict(choice: "Monarch", confidence: 0.9, reason: "orange with black veins"))
        let request = try #require(chat.seen.withLock { $0.first })
        #expect(request.purpose == "relevance_judge" && request.model == "vision-model" && request.temperature == 0)
        guard case .jsonSchema(let name, let schemaText) = request.responseFormat else { Issue.record("no schema"); return }
        #expect(name == "relevance_judgement")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(schemaText.utf8)) as? [String: Any])
        let choice = try #require((schema["properties"] as? [String: Any])?["choice"] as? [String: Any])
        #expect(choice["enum"] as? [String] == Self.options)
        let prompt = request.messages[0].parts.compactMap { part -> String? in if case .text(let t) = part { t } else { nil } }.joined()
        #expect(prompt.hasSuffix("Options:\n- Viceroy\n- Monarch\n- Queen\n- \(RelevanceConfusions.noneOption)"), "\(prompt)")
        #expect(prompt.contains("butterfly subject"))
        let image = try #require(request.messages[0].parts.compactMap { part -> Data? in if case .image(let d, _) = part { d } else { nil } }.first)
        let probe = try ProbedImage.probe(data: image)
        #expect(probe.format == "jpeg" && max(probe.width, probe.height) <= 200)
    }

    @Test(arguments: [
        #"{"choice": "monarch", "confidence": 0.9, "reason": ""}"#,
        #"{"choice": "Danaus plexippus", "confidence": 0.9, "reason": ""}"#,
        #"{"choice": "Monarch", "confidence": 1.5, "reason": ""}"#,
        #"{"choice": "Monarch", "confidence": true, "reason": ""}"#,
        #"{"choice": "Monarch", "reason": ""}"#,
        #"{"choice": "Monarch", "confidence": "0.9", "reason": ""}"#,
        #"{"choice": "Monarch", "confidence": false, "reason": ""}"#,
        "Monarch",
    ])
    func aReplyThatIsNotAnOptionWithAConfidenceIsNoVerdict(_ reply: String) async throws {
        let judge = VLMRelevanceJudge(service: ScriptedChat { _ in reply }, model: "m")
        do {
            _ = try await judge.judge(imageAt: try anyImage(), options: Self.options, category: nil)
            Issue.record("\(reply) was taken as a verdict")
        } catch let error as JudgeError {
            #expect(error.code == .noVerdict, "\(error)")
        }
    }

    /// A confidence written as a whole number (`1`, `0`) is a number from 0 to 1, not a boolean.
    @Test(arguments: [("1", 1.0), ("0", 0.0), ("1.0", 1.0), ("0.75", 0.75)])
    func aWholeNumberConfidenceIsAVerdict(_ written: String, _ confidence: Double) async throws {
        let reply = #"{"choice": "Monarch", "confidence": \#(written), "reason": "veins"}"#
        let judge = VLMRelevanceJudge(service: ScriptedChat { _ in reply }, model: "m")
        let verdict = try await judge.judge(imageAt: try anyImage(), options: Self.options, category: nil)
        #expect(verdict == RelevanceVerdict(choice: "Monarch", confidence: confidence, reason: "veins"))
    }

    /// A choice written in another Unicode normalisation than the option is the option, recorded as offered.
    @Test func aChoiceInAnotherNormalisationIsRecordedAsTheOption() async throws {
        let decomposed = "Cre\u{300}me bru\u{302}le\u{301}e"
        let reply = #"{"choice": "Cr\u00e8me br\u00fbl\u00e9e", "confidence": 0.8, "reason": ""}"#
        let judge = VLMRelevanceJudge(service: ScriptedChat { _ in reply }, model: "m")
        let verdict = try await judge.judge(imageAt: try anyImage(), options: [decomposed, RelevanceConfusions.noneOption], category: nil)
        #expect(Array(verdict.choice.unicodeScalars) == Array(decomposed.unicodeScalars))
    }

    /// The reply copies the option verbatim: a long keyword (200 Hangul syllables, 600 bytes) gets room for it;
    /// short ones keep the request they always had (cached answers stay valid).
    @Test func aLongKeywordGetsRoomToBeCopied() async throws {
        let long = String(repeating: "김", count: KeywordText.maxLength)
        let chat = ScriptedChat { _ in "{\"choice\": \"\(long)\", \"confidence\": 0.9, \"reason\": \"\"}" }
        let judge = VLMRelevanceJudge(service: chat, model: "m")
        _ = try await judge.judge(imageAt: try anyImage(), options: [long, RelevanceConfusions.noneOption], category: nil)
        _ = try? await judge.judge(imageAt: try anyImage(), options: Self.options, category: nil)
        let asked = chat.seen.withLock { $0.map(\.maxTokens) }
        #expect(asked.count == 2 && (asked[0] ?? 0) >= long.utf8.count + 60 && asked[1] == 160, "\(asked)")
    }

    @Test func anEndpointErrorIsAFailureAndAFatalOneStops() async throws {
        struct Down: ChatService {
            let code: ChatError.Code
            func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult { throw ChatError(code, "down") }
        }
        for (code, expected) in [(ChatError.Code.unavailable, JudgeError.Code.unavailable), (.insufficientQuota, .stopped),
                                 (.refusal, .noVerdict), (.authentication, .stopped)] {
            do {
                _ = try await VLMRelevanceJudge(service: Down(code: code), model: "m").judge(imageAt: try anyImage(), options: Self.options, category: nil)
                Issue.record("no error")
            } catch let error as JudgeError {
                #expect(error.code == expected)
            }
        }
    }
}
