import Dataset
@testable import Filter
import Testing

@Suite struct MaxLongSideRuleTests {
    typealias T = RuleTesting

    @Test(arguments: [(3999, true), (4000, true), (4001, false)])
    func keepsAtTheMaximumAndDropsAboveIt(long: Int, kept: Bool) async {
        let decision = await MaxLongSideRule(maximum: 4000).decide(T.subject(width: 300, height: long))
        #expect(decision.pass == kept)
        #expect(decision.value == "\(long)" && decision.threshold == "4000")
        #expect(decision.reason == (kept ? "long_side \(long) <= 4000" : "long_side \(long) > 4000"))
    }

    @Test func offByDefaultAndOnWhenTheRecipeSetsALimit() throws {
        #expect(T.rule(MaxLongSideRule.self) == nil)
        #expect(T.rule(MaxLongSideRule.self, try T.settings("  max_long_side: 0\n")) == nil)
        let rule = try #require(T.rule(MaxLongSideRule.self, try T.settings("  max_long_side: 2048\n")))
        #expect(rule.maximum == 2048 && rule.settingsDescription == "2048")
        #expect(T.recipeError("  max_long_side: -1\n")?.key == "filter.max_long_side")
    }

    @Test func measuresTheDisplaySizeOfAnEXIFRotatedImage() async throws {
        // Stored 1000×3000, orientation 5: shown 3000×1000; the long side is the same either way, the axis is not.
        let subject = try T.rotatedJPEG(width: 1000, height: 3000, orientation: 5)
        #expect(subject.probe.displayWidth == 3000)
        #expect(await MaxLongSideRule(maximum: 2999).decide(subject).reason == "long_side 3000 > 2999")
    }

    @Test func aChangedMaximumChangesTheSettingsHash() {
        #expect(MaxLongSideRule(maximum: 2048).settingsHash != MaxLongSideRule(maximum: 4096).settingsHash)
    }
}
