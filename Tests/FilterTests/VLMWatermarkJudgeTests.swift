import Dataset
import Filter
import Foundation
import Synchronization
import Testing
import _DSBuildTestSupport

/// A chat service that answers from a script and keeps the requests it saw.
final class ScriptedChat: ChatService {
    let answers: @Sendable (ChatRequest) -> String
    let seen = Mutex<[ChatRequest]>([])

    init(_ answers: @escaping @Sendable (ChatRequest) -> String) { self.answers = answers }

    func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        seen.withLock { $0.append(request) }
        let text = answers(request)
        if let problem = request.validator?(text) { throw ChatError(.invalidOutput, problem) }
        return ChatResult(text: text, usage: ChatUsage(promptTokens: 10, completionTokens: 5), fromCache: false,
                          requestKey: "k", finishReason: "stop", model: request.model, attempts: 1)
    }
}

@Suite struct VLMWatermarkJudgeTests {
    func anyImage() throws -> URL {
        let items = try KViscuitFixture.type1Items()
        let item = try #require(items.first { FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path) })
        return TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)
    }

    @Test func theJudgeSendsASmallJPEGWithASchemaAndReadsTheVerdict() async throws {
        let chat = ScriptedChat { _ in #"{"watermark": true, "evidence": "a translucent Shutterstock logo across the middle"}"# }
        let judge = VLMWatermarkJudge(service: chat, model: "vision-model", maxSide: 256)
        let verdict = try await judge.judge(imageAt: try anyImage(), format: "jpeg")
        #expect(verdict.watermarked)
        #expect(verdict.explanation.contains("Shutterstock"))
        let request = try #require(chat.seen.withLock { $0.first })
        #expect(request.purpose == "watermark_judge")
        #expect(request.replaysOnlyValidAnswers, "a cached non-answer is asked again on the next run, not replayed")
        guard case .jsonSchema(let name, _) = request.responseFormat else { Issue.record("no schema"); return }
        #expect(name == "watermark_judgement")
        let image = request.messages[0].parts.compactMap { part -> Data? in
            if case .image(let data, _) = part { return data } else { return nil }
        }.first
        let bytes = try #require(image)
        #expect(bytes.starts(with: [0xFF, 0xD8, 0xFF]))
        let probe = try ProbedImage.probe(data: bytes)
        #expect(max(probe.width, probe.height) <= 256)
    }

    func subject() throws -> FilterSubject {
        let url = try anyImage()
        return FilterSubject(sha256: "x", keywordID: 1, keyword: "k", fileURL: url, bytes: 1,
                             probe: try ProbedImage.probe(fileAt: url), urls: [], extra: [:], searchRank: 0)
    }

    @Test func aMalformedVerdictIsAFailureNeitherAKeepNorADrop() async throws {
        let chat = ScriptedChat { _ in "I think there might be a watermark." }
        let judge = VLMWatermarkJudge(service: chat, model: "m")
        await #expect(throws: JudgeError.self) { _ = try await judge.judge(imageAt: try anyImage(), format: "jpeg") }
        let decision = await WatermarkRule(judge: judge).decide(try subject())
        #expect(!decision.pass && decision.undecided && !decision.stopsRun)
        #expect(decision.reason.contains("no_verdict") && decision.reason.contains("retried on the next filter run"), "\(decision.reason)")
    }

    @Test func anImageThatCannotBeShownToTheJudgeIsDropped() async throws {
        let judge = VLMWatermarkJudge(service: ScriptedChat { _ in #"{"watermark":false,"evidence":""}"# }, model: "m")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wm-judge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = try subject()
        let broken = dir.appendingPathComponent("broken.jpg")
        try Data(try Data(contentsOf: real.fileURL).prefix(200)).write(to: broken)
        let s = FilterSubject(sha256: "x", keywordID: 1, keyword: "k", fileURL: broken, bytes: 200, probe: real.probe,
                              urls: [], extra: [:], searchRank: 0)
        let decision = await WatermarkRule(judge: judge).decide(s)
        #expect(!decision.pass && !decision.undecided && decision.value == "judge=unreadable_image", "\(decision)")
    }

    /// A chat service that is down.
    struct DownChat: ChatService {
        let code: ChatError.Code
        func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult { throw ChatError(code, "the endpoint is down") }
    }

    @Test(arguments: [ChatError.Code.unavailable, .timedOut, .insufficientQuota, .authentication])
    func aJudgeThatCannotBeReachedLeavesTheImageUndecidedNotDropped(_ code: ChatError.Code) async throws {
        let decision = await WatermarkRule(judge: VLMWatermarkJudge(service: DownChat(code: code), model: "m")).decide(try subject())
        #expect(decision.undecided)
        #expect(decision.value == "undecided")
        #expect(decision.reason.contains("retried on the next filter run"), "\(decision.reason)")
    }
}
