import Dataset
@testable import Filter
import Testing

@Suite struct AspectRatioRuleTests {
    typealias T = RuleTesting

    /// 500/999 = 0.5005 and 500/1000 = 0.5 are kept, 500/1001 = 0.4995 is dropped (shown rounded, decided exactly).
    @Test(arguments: [(999, true), (1000, true), (1001, false)])
    func keepsAtTheLowerBoundAndDropsBelowIt(height: Int, kept: Bool) async {
        let decision = await AspectRatioRule(minimum: 0.5, maximum: 2).decide(T.subject(width: 500, height: height))
        #expect(decision.pass == kept)
        #expect(decision.threshold == "0.5-2")
        #expect(decision.reason == (kept ? "aspect_ratio \(decision.value) in 0.5-2" : "aspect_ratio 0.500 < 0.5"))
    }

    @Test(arguments: [(1999, true), (2000, true), (2001, false)])
    func keepsAtTheUpperBoundAndDropsAboveIt(width: Int, kept: Bool) async {
        let decision = await AspectRatioRule(minimum: 0.5, maximum: 2).decide(T.subject(width: width, height: 1000))
        #expect(decision.pass == kept)
        if kept { #expect(decision.reason.hasPrefix("aspect_ratio ") && decision.reason.hasSuffix(" in 0.5-2")) }
        else { #expect(decision.reason == "aspect_ratio 2.001 > 2") }
    }

    @Test func theVLVDefaultIsHalfToTwoAndRecordsTheRatio() async throws {
        let rule = try #require(T.rule(AspectRatioRule.self))
        #expect(rule.minimum == 0.5 && rule.maximum == 2)
        #expect(rule.settingsDescription == "0.5-2.0")
        let wide = await rule.decide(T.subject(width: 3000, height: 1000))
        #expect(wide.value == "3.000" && wide.reason == "aspect_ratio 3.000 > 2")
    }

    /// Stored 600×1400 with orientation 6 is shown 1400×600: 2.333 is computed on the display size.
    @Test func measuresTheDisplaySizeOfAnEXIFRotatedImage() async throws {
        let real = try T.rotatedJPEG(width: 600, height: 1400, orientation: 6)
        #expect(await AspectRatioRule(minimum: 0.5, maximum: 2).decide(real).reason == "aspect_ratio 2.333 > 2")
        let stored = T.subject(width: 600, height: 1400, orientation: 6)
        #expect(await AspectRatioRule(minimum: 0.5, maximum: 2).decide(stored).reason == "aspect_ratio 2.333 > 2")
    }

    @Test func aZeroHeightIsDroppedNotDividedBy() async {
        let decision = await AspectRatioRule(minimum: 0.5, maximum: 2).decide(T.subject(width: 10, height: 0))
        #expect(!decision.pass && decision.value == "undefined" && decision.reason == "height is 0")
    }

    @Test func theRecipeSetsTheRangeAndRefusesABrokenOne() throws {
        let rule = try #require(T.rule(AspectRatioRule.self, try T.settings("  aspect_ratio: [0.3, 3.0]\n")))
        #expect(rule.minimum == 0.3 && rule.maximum == 3)
        #expect(T.recipeError("  aspect_ratio: [2.0, 0.5]\n")?.key == "filter.aspect_ratio")
        #expect(T.recipeError("  aspect_ratio: [0, 2]\n")?.key == "filter.aspect_ratio")
        var off = FilterSettings()
        off.aspectRatio = nil
        #expect(T.rule(AspectRatioRule.self, off) == nil)
    }

    @Test func eitherBoundChangesTheSettingsHash() {
        let base = AspectRatioRule(minimum: 0.5, maximum: 2)
        #expect(base.settingsHash != AspectRatioRule(minimum: 0.3, maximum: 2).settingsHash)
        #expect(base.settingsHash != AspectRatioRule(minimum: 0.5, maximum: 3).settingsHash)
    }
}
