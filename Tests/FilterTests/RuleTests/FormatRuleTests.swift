import Dataset
@testable import Filter
import Testing
import _DSBuildTestSupport

@Suite struct FormatRuleTests {
    typealias T = RuleTesting

    @Test func keepsListedFormatsAndNamesTheListWhenItDrops() async throws {
        let rule = FormatRule(allowed: ["jpg", "png"])
        let gif = await rule.decide(T.subject(try T.realProbe(ImageFactory.gif(width: 8, height: 8))))
        #expect(!gif.pass && gif.value == "gif" && gif.threshold == "jpeg,png")
        #expect(gif.reason == "format gif not in jpeg,png")
        let png = await rule.decide(T.subject(try T.realProbe(ImageFactory.pngHeader(width: 8, height: 8))))
        #expect(png.pass && png.reason == "format png allowed")
        let jpeg = await rule.decide(T.subject(try T.realProbe(ImageFactory.jpegHeader(width: 8, height: 8))))
        #expect(jpeg.pass)
    }

    /// `jpg` is `jpeg`, case does not matter and order does not either: the same list, the same hash.
    @Test func theListIsNormalisedSoEquivalentListsShareAHash() {
        let a = FormatRule(allowed: ["PNG", "jpg"]), b = FormatRule(allowed: ["jpeg", "png"])
        #expect(a.allowed == ["jpeg", "png"])
        #expect(a.settingsHash == b.settingsHash)
        #expect(a.settingsHash != FormatRule(allowed: ["jpeg"]).settingsHash)
    }

    @Test func offUnlessTheRecipeListsFormatsAndAnUnknownFormatIsAnError() throws {
        #expect(T.rule(FormatRule.self) == nil)
        let rule = try #require(T.rule(FormatRule.self, try T.settings("  formats: [jpg, webp]\n")))
        #expect(rule.allowed == ["jpeg", "webp"])
        #expect(T.recipeError("  formats: [bogus]\n")?.key.hasPrefix("filter.formats") == true)
    }
}
