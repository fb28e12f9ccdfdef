import Dataset
@testable import Filter
import Foundation
import Synchronization
import Testing
import _DSBuildTestSupport

/// A watermark judge that answers from a script and counts the images it was shown.
final class ScriptedWatermarkJudge: WatermarkJudging {
    let answer: @Sendable () throws -> (watermarked: Bool, explanation: String)
    let asked = Mutex(0)

    init(_ answer: @escaping @Sendable () throws -> (watermarked: Bool, explanation: String)) { self.answer = answer }

    func judge(imageAt url: URL, format: String) async throws -> (watermarked: Bool, explanation: String) {
        asked.withLock { $0 += 1 }
        return try answer()
    }
}

@Suite struct WatermarkRuleTests {
    typealias T = RuleTesting

    static let clean = T.probe(width: 800, height: 800)

    @Test(arguments: [("0.79", true), ("0.8", false), ("0.91", false)])
    func aPWatermarkAtOrAboveTheThresholdDrops(score: String, kept: Bool) async {
        let decision = await WatermarkRule().decide(T.subject(Self.clean, extra: ["pwatermark": score]))
        #expect(decision.pass == kept)
        if !kept {
            #expect(decision.value == "pwatermark=\(score)" && decision.threshold == ">= 0.8")
            #expect(decision.reason == "pwatermark \(score) >= 0.8")
        } else {
            #expect(decision.reason == "no watermark signal")
        }
    }

    @Test func theUppercaseLAIONColumnCountsToo() async {
        let decision = await WatermarkRule(pwatermarkThreshold: 0.5).decide(T.subject(Self.clean, extra: ["PWATERMARK": "0.6"]))
        #expect(decision.reason == "pwatermark 0.6 >= 0.5")
    }

    @Test func aStockAgencyInTheEmbeddedCreditDrops() async throws {
        let credit = T.probe(width: 800, height: 800, rights: ["xmp.photoshop.credit": "Getty Images/iStockphoto"])
        let byName = await WatermarkRule().decide(T.subject(credit))
        #expect(!byName.pass && byName.threshold == "stock names")
        #expect(byName.reason == "xmp.photoshop.credit names stock agency Getty Images")
        // A custom list replaces the default one.
        #expect(await WatermarkRule(stockNames: ["Acme Photo"]).decide(T.subject(credit)).pass)
    }

    /// What a real iStock download carries: the Getty asset id in its XMP drops it before any credit is read.
    @Test func aGettyAssetIDInTheXMPDrops() async throws {
        let data = ImageFactory.jpegHeader(width: 16, height: 16, segments: [ImageFactory.xmpAPP1(ImageFactory.istockXMP)])
        let decision = await WatermarkRule().decide(T.subject(try T.realProbe(data)))
        #expect(decision.value == "getty_gift_asset")
        #expect(decision.reason == "Getty Images asset id in XMP (1234567890)")
    }

    @Test func aStockHostInAnImageOrPageURLDrops() async {
        let decision = await WatermarkRule().decide(T.subject(Self.clean, urls: ["https://image.shutterstock.com/z/x.jpg"]))
        #expect(!decision.pass && decision.threshold == "stock domains")
        #expect(decision.reason == "URL host image.shutterstock.com is stock host shutterstock.com")
        #expect(await WatermarkRule().decide(T.subject(Self.clean, urls: ["https://upload.wikimedia.org/a.jpg"])).pass)
    }

    @Test func theJudgeIsAskedOnlyWhenTheRecipeTurnsItOnAndItsVerdictIsRecorded() async throws {
        let judge = ScriptedWatermarkJudge { (true, "a translucent logo across the middle") }
        let off = try #require(T.rule(WatermarkRule.self, judge: judge))
        #expect(off.judge == nil)
        let on = try #require(T.rule(WatermarkRule.self, try T.settings("  watermark:\n    vlm_judge: true\n"), judge: judge))
        let decision = await on.decide(T.subject(Self.clean))
        #expect(decision.value == "vlm=watermarked" && decision.threshold == "vlm judge")
        #expect(decision.reason == "VLM judge sees a watermark: a translucent logo across the middle")
        // A cheap signal decides first: the judge is not asked.
        _ = await on.decide(T.subject(Self.clean, extra: ["pwatermark": "0.99"]))
        #expect(judge.asked.withLock { $0 } == 1)
    }

    @Test func onlyAnImageTheJudgeCannotBeShownDropsEveryOtherJudgeFailureLeavesItUndecided() async {
        let unreadable = WatermarkRule(judge: ScriptedWatermarkJudge { throw JudgeError(.unreadableImage, judge: "test", item: "image", detail: "truncated") })
        let dropped = await unreadable.decide(T.subject(Self.clean))
        #expect(!dropped.pass && !dropped.undecided && dropped.value == "judge=unreadable_image")
        for code in [JudgeError.Code.noVerdict, .unavailable] {
            let rule = WatermarkRule(judge: ScriptedWatermarkJudge { throw JudgeError(code, judge: "test", item: "image", detail: "refused or http 503") })
            let undecided = await rule.decide(T.subject(Self.clean))
            #expect(undecided.undecided && !undecided.stopsRun)
            #expect(undecided.reason.contains("retried on the next filter run"))
        }
        let stopped = WatermarkRule(judge: ScriptedWatermarkJudge { throw JudgeError(.stopped, judge: "test", item: "image", detail: "quota") })
        #expect(await stopped.decide(T.subject(Self.clean)).stopsRun)
    }

    @Test func onByDefaultOffWhenTheRecipeSaysSoAndTheModelIsAKeyOfItsOwn() throws {
        #expect(T.rule(WatermarkRule.self) != nil)
        #expect(T.rule(WatermarkRule.self, try T.settings("  watermark:\n    enabled: false\n")) == nil)
        let settings = try T.settings("  watermark:\n    vlm_model: judge-model\n    pwatermark_threshold: 0.5\n")
        #expect(settings.vlmModel == "judge-model")
        #expect(T.rule(WatermarkRule.self, settings)?.pwatermarkThreshold == 0.5)
        #expect(T.recipeError("  watermark:\n    pwatermark_threshold: 1.5\n")?.key == "filter.watermark.pwatermark_threshold")
    }

    @Test func everySettingThatChangesTheOutcomeChangesTheSettingsHash() {
        let base = WatermarkRule()
        let variants = [
            WatermarkRule(pwatermarkThreshold: 0.5),
            WatermarkRule(stockNames: ["Acme"]),
            WatermarkRule(stockDomains: ["acme.example"]),
            WatermarkRule(judge: ScriptedWatermarkJudge { (false, "") }),
        ]
        for variant in variants { #expect(variant.settingsHash != base.settingsHash) }
        // The lists are compared as sets: reordering them does not make every image pending again.
        #expect(WatermarkRule(stockNames: WatermarkRule.defaultStockNames.reversed()).settingsHash == base.settingsHash)
    }
}
