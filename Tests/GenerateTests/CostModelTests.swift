import Dataset
import Foundation
@testable import Generate
import Testing
import _DSBuildTestSupport

/// The parts of the estimate and the budget: the image tile rule, the text approximation, what a body costs, the
/// calibration from the cache, and the budget's reservations under concurrency.
struct CostModelTests {
    @Test func imageTokensFollowOpenAIsDocumentedExamples() {
        let gpt4o = ImageTokenRule.of(model: "gpt-4o-2024-08-06")
        #expect(gpt4o.tokens(width: 1024, height: 1024, detail: "high") == 765)
        #expect(gpt4o.tokens(width: 2048, height: 4096, detail: "high") == 1105)
        #expect(gpt4o.tokens(width: 4096, height: 8192, detail: "low") == 85)
        // auto counts as high (the safe side); a small image is one tile, not scaled up.
        #expect(gpt4o.tokens(width: 300, height: 200, detail: "auto") == 255)
        #expect(gpt4o.tokens(width: 300, height: 200, detail: nil) == 255)
        let mini = ImageTokenRule.of(model: "gpt-4o-mini")
        #expect(mini.tokens(width: 1024, height: 1024, detail: "high") == 25_501)
        #expect(mini.tokens(width: 1024, height: 1024, detail: "low") == 2833)
    }

    @Test func theTextApproximationGrowsWithTheTextAndReadsScripts() {
        #expect(TokenApproximation.tokens(in: "") == 0)
        #expect(TokenApproximation.tokens(in: "Hello world") == 2)
        let english = "Bungeo-ppang is a fish-shaped pastry filled with sweetened red bean paste."
        let twice = english + " " + english
        #expect(abs(TokenApproximation.tokens(in: twice) - 2 * TokenApproximation.tokens(in: english)) <= 1)
        // Korean runs near one token a syllable, far more than a byte count / 4 of the same bytes would say per char.
        let korean = "떡볶이는 가래떡을 고추장 양념에 볶거나 끓여 만든 한국의 대표적인 길거리 음식이다."
        let syllables = korean.unicodeScalars.filter { $0.value >= 0xAC00 && $0.value <= 0xD7A3 }.count
        let tokens = TokenApproximation.tokens(in: korean)
        #expect(tokens > Double(syllables) * 0.7 && tokens < Double(syllables) * 1.1, "\(tokens) for \(syllables) syllables")
        // Long words cost more than one token; digits go three to a token.
        #expect(TokenApproximation.tokens(in: "internationalisation") >= 3)
        #expect(TokenApproximation.tokens(in: "123456789") == 3)
    }

    @Test func aBodyIsCountedFromItsExactBytesImagesByTheirSize() throws {
        let png = ImageFactory.png(width: 1024, height: 1024, channels: 3, pixels: [UInt8](repeating: 128, count: 1024 * 1024 * 3))
        let body: [String: Any] = [
            "model": "gpt-4o", "max_tokens": 321,
            "messages": [
                ["role": "system", "content": "You write descriptions."],
                ["role": "user", "content": [["type": "text", "text": "Describe the image."],
                                             ["type": "image_url", "image_url": ["url": "data:image/png;base64,\(png.base64EncodedString())",
                                                                                 "detail": "high"]]]],
            ],
            "response_format": ["type": "json_schema", "json_schema": ["name": "x", "schema": ["type": "object"]]],
        ]
        let tokens = RequestTokens.of(body: try JSONSerialization.data(withJSONObject: body))
        #expect(tokens.images == 1 && tokens.image == 765)
        #expect(tokens.maxCompletion == 321)
        #expect(tokens.model == "gpt-4o")
        #expect(tokens.text > 10 && tokens.text < 60, "\(tokens.text)")
    }

    @Test func theCalibrationIsTheRatioOfRealToApproximatedPromptsPerModelAndPurpose() async throws {
        let directory = TemporaryDirectory("cost-cal")
        let workspace = try Workspace.create(at: directory.url)
        let cache = LLMCache(manifest: workspace.manifest)
        for i in 0..<4 {
            try await cache.store(key: "a\(i)", model: "m", purpose: "describe.visual", response: "{}",
                                  usage: ChatUsage(promptTokens: 120, completionTokens: 200), estimatedPromptTokens: 100)
        }
        try await cache.store(key: "b", model: "m", purpose: "mcq.type2", response: "{}",
                              usage: ChatUsage(promptTokens: 90, completionTokens: 50), estimatedPromptTokens: 100)
        // An entry stored before the approximation was kept has no estimate: it calibrates nothing.
        try await cache.store(key: "c", model: "m", purpose: "mcq.type2", response: "{}", usage: ChatUsage(promptTokens: 999, completionTokens: 70))
        let calibration = try TokenCalibration.load(from: workspace.manifest)
        let visual = calibration.promptEntry(model: "m", purpose: "describe.visual")
        #expect(visual.entry.samples == 4 && abs(visual.entry.factor - 1.2) < 1e-9)
        #expect(calibration.promptEntry(model: "m", purpose: "mcq.type2").entry.factor == 0.9)
        #expect(calibration.meanCompletion(model: "m", purpose: "mcq.type2") == 60)
        // An unseen purpose falls back to the model; an unseen model to everything.
        #expect(calibration.promptEntry(model: "m", purpose: "mcq.verify").basis == "m")
        #expect(calibration.promptEntry(model: "other", purpose: "x").basis == "all models")
        #expect(TokenCalibration().promptEntry(model: "m", purpose: "x").basis == "none")
    }

    @Test func theBudgetReservesRequestsInFlightWaitsForThemAndStopsOnlyWithNothingInFlight() async throws {
        let directory = TemporaryDirectory("cost-budget")
        let workspace = try Workspace.create(at: directory.url)
        var settings = LLMSettings()
        settings.budget.runTokens = 1000
        let budget = try LLMBudget(settings: settings, manifest: workspace.manifest, workspace: directory.url.path + "/tokens")
        let body = try JSONSerialization.data(withJSONObject: ["model": "m", "max_tokens": 300,
                                                               "messages": [["role": "user", "content": "Say hello."]]])
        // Each worst case is ~300 + a few prompt tokens: three fit; a fourth waits while they are in flight.
        let first = try await budget.admit(body: body, purpose: "p")
        let second = try await budget.admit(body: body, purpose: "p")
        let third = try await budget.admit(body: body, purpose: "p")
        let waiting = Task { try await budget.admit(body: body, purpose: "p") }
        try await Task.sleep(for: .milliseconds(150))
        // The replies were short: settling frees room and the waiting request goes.
        budget.settle(first, usage: ChatUsage(promptTokens: 10, completionTokens: 5))
        let fourth = try await waiting.value
        budget.settle(second, usage: nil)
        budget.settle(third, usage: ChatUsage(promptTokens: 10, completionTokens: 5))
        budget.settle(fourth, usage: ChatUsage(promptTokens: 10, completionTokens: 5))
        #expect(budget.spentThisRun.tokens == 45)
        // 45 spent, nothing in flight: a request whose worst case would pass 1000 stops the stage at once.
        let big = try JSONSerialization.data(withJSONObject: ["model": "m", "max_tokens": 990,
                                                              "messages": [["role": "user", "content": "Say hello."]]])
        await #expect(throws: ChatError.self) { _ = try await budget.admit(body: big, purpose: "p") }
        do {
            var priced = LLMSettings()
            priced.budget.runUSD = 0.001
            let usd = try LLMBudget(settings: priced, manifest: workspace.manifest, workspace: directory.url.path + "/usd")
            _ = try await usd.admit(body: body, purpose: "p")
            Issue.record("a USD budget without a price for the model must refuse")
        } catch let error as ChatError {
            #expect(error.code == .budgetExhausted && error.message.contains("has no price"))
            #expect(error.isFatal && error.runStatus == "budget_exhausted")
        }
    }
}
