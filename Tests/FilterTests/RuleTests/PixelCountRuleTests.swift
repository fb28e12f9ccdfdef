import Dataset
@testable import Filter
import Testing

@Suite struct PixelCountRuleTests {
    typealias T = RuleTesting

    @Test(arguments: [(99, false), (100, true), (101, true)])
    func keepsAtTheMinimumAndDropsBelowIt(height: Int, kept: Bool) async {
        let rule = PixelCountRule(minimum: 10_000, maximum: nil)
        let decision = await rule.decide(T.subject(width: 100, height: height))
        #expect(decision.pass == kept)
        #expect(decision.value == "\(100 * height)" && decision.threshold == "10000..∞")
        #expect(decision.reason == (kept ? "pixels \(100 * height) in 10000..∞" : "pixels \(100 * height) < 10000"))
    }

    @Test(arguments: [(199, true), (200, true), (201, false)])
    func keepsAtTheMaximumAndDropsAboveIt(height: Int, kept: Bool) async {
        let decision = await PixelCountRule(minimum: nil, maximum: 20_000).decide(T.subject(width: 100, height: height))
        #expect(decision.pass == kept)
        #expect(decision.threshold == "0..20000")
        #expect(decision.reason == (kept ? "pixels \(100 * height) in 0..20000" : "pixels \(100 * height) > 20000"))
    }

    /// Pixels are a count of the stored image: turning it does not change how many there are.
    @Test func countsTheStoredPixelsWhateverTheOrientation() async throws {
        let subject = try T.rotatedJPEG(width: 300, height: 200, orientation: 6)
        #expect(await PixelCountRule(minimum: 60_000, maximum: 60_000).decide(subject).pass)
    }

    @Test func offUnlessALimitIsSetAndEitherLimitTurnsItOn() throws {
        #expect(T.rule(PixelCountRule.self) == nil)
        #expect(T.rule(PixelCountRule.self, try T.settings("  min_pixels: 0\n  max_pixels: 0\n")) == nil)
        let low = try #require(T.rule(PixelCountRule.self, try T.settings("  min_pixels: 250000\n")))
        #expect(low.minimum == 250_000 && low.maximum == nil)
        let high = try #require(T.rule(PixelCountRule.self, try T.settings("  max_pixels: 40000000\n")))
        #expect(high.minimum == nil && high.maximum == 40_000_000)
        #expect(T.recipeError("  max_pixels: -1\n")?.key == "filter.max_pixels")
    }

    @Test func eitherLimitChangesTheSettingsHash() {
        let base = PixelCountRule(minimum: 100, maximum: nil)
        #expect(base.settingsDescription == "100--1")
        #expect(base.settingsHash != PixelCountRule(minimum: 101, maximum: nil).settingsHash)
        #expect(base.settingsHash != PixelCountRule(minimum: 100, maximum: 1_000_000).settingsHash)
    }
}
