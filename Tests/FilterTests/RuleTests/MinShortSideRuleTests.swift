import Dataset
@testable import Filter
import Testing

@Suite struct MinShortSideRuleTests {
    typealias T = RuleTesting

    @Test(arguments: [(511, false), (512, true), (513, true)])
    func keepsAtTheMinimumAndDropsBelowIt(short: Int, kept: Bool) async {
        let decision = await MinShortSideRule(minimum: 512).decide(T.subject(width: 2000, height: short))
        #expect(decision.pass == kept)
        #expect(decision.value == "\(short)" && decision.threshold == "512")
        #expect(decision.reason == (kept ? "short_side \(short) >= 512" : "short_side \(short) < 512"))
    }

    @Test func theVLVDefaultIs512AndRecordsTheMeasuredSide() async throws {
        let rule = try #require(T.rule(MinShortSideRule.self))
        #expect(rule.minimum == 512)
        #expect(rule.settingsDescription == "512")
        #expect(await rule.decide(T.subject(width: 640, height: 384)).reason == "short_side 384 < 512")
    }

    /// A phone photo stored 600×1400 with EXIF orientation 6 is shown 1400×600: its short side is 600.
    @Test func measuresTheDisplaySizeOfAnEXIFRotatedImage() async throws {
        let subject = try T.rotatedJPEG(width: 1400, height: 600, orientation: 6)
        #expect(subject.probe.displayWidth == 600 && subject.probe.displayHeight == 1400)
        #expect(await MinShortSideRule(minimum: 601).decide(subject).reason == "short_side 600 < 601")
        let upright = try T.rotatedJPEG(width: 500, height: 900, orientation: 8)
        #expect(await MinShortSideRule(minimum: 500).decide(upright).pass)
    }

    @Test func zeroInTheRecipeTurnsTheRuleOffAndANegativeValueIsAnError() throws {
        #expect(T.rule(MinShortSideRule.self, try T.settings("  min_short_side: 0\n")) == nil)
        #expect(T.rule(MinShortSideRule.self, try T.settings("  min_short_side: 300\n"))?.minimum == 300)
        #expect(T.recipeError("  min_short_side: -5\n")?.key == "filter.min_short_side")
        var settings = FilterSettings()
        settings.minShortSide = nil
        #expect(T.rule(MinShortSideRule.self, settings) == nil)
    }

    @Test func aChangedMinimumChangesTheSettingsHash() {
        #expect(MinShortSideRule(minimum: 512).settingsHash != MinShortSideRule(minimum: 700).settingsHash)
        #expect(MinShortSideRule(minimum: 512).settingsHash == MinShortSideRule(minimum: 512).settingsHash)
    }
}
