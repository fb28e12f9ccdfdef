import Dataset
@testable import Filter
import Testing

@Suite struct ByteSizeRuleTests {
    typealias T = RuleTesting

    @Test(arguments: [(9_999, false), (10_000, true), (10_001, true)])
    func keepsAtTheMinimumAndDropsBelowIt(bytes: Int, kept: Bool) async {
        let decision = await ByteSizeRule(minimum: 10_000, maximum: nil).decide(T.subject(T.probe(width: 800, height: 800), bytes: bytes))
        #expect(decision.pass == kept)
        #expect(decision.value == "\(bytes)" && decision.threshold == "10000..∞")
        #expect(decision.reason == (kept ? "bytes \(bytes) in 10000..∞" : "bytes \(bytes) < 10000"))
    }

    @Test(arguments: [(4_999_999, true), (5_000_000, true), (5_000_001, false)])
    func keepsAtTheMaximumAndDropsAboveIt(bytes: Int, kept: Bool) async {
        let decision = await ByteSizeRule(minimum: nil, maximum: 5_000_000).decide(T.subject(T.probe(width: 800, height: 800), bytes: bytes))
        #expect(decision.pass == kept)
        #expect(decision.reason == (kept ? "bytes \(bytes) in 0..5000000" : "bytes \(bytes) > 5000000"))
    }

    @Test func offUnlessALimitIsSet() throws {
        #expect(T.rule(ByteSizeRule.self) == nil)
        #expect(T.rule(ByteSizeRule.self, try T.settings("  min_bytes: 0\n")) == nil)
        let rule = try #require(T.rule(ByteSizeRule.self, try T.settings("  min_bytes: 2048\n  max_bytes: 0\n")))
        #expect(rule.minimum == 2048 && rule.maximum == nil)
        #expect(T.recipeError("  min_bytes: -1\n")?.key == "filter.min_bytes")
    }

    @Test func eitherLimitChangesTheSettingsHash() {
        let base = ByteSizeRule(minimum: 1, maximum: 10)
        #expect(base.settingsDescription == "1-10")
        #expect(base.settingsHash != ByteSizeRule(minimum: 2, maximum: 10).settingsHash)
        #expect(base.settingsHash != ByteSizeRule(minimum: 1, maximum: nil).settingsHash)
        // A byte rule and a pixel rule with the same limits are different rules: their hashes differ.
        #expect(base.settingsHash != PixelCountRule(minimum: 1, maximum: 10).settingsHash)
    }
}
