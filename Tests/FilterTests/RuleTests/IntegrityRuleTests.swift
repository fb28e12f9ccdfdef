import Dataset
@testable import Filter
import Foundation
import Imaging
import Testing
import _DSBuildTestSupport

@Suite struct IntegrityRuleTests {
    typealias T = RuleTesting

    /// A real 16×16 JPEG and a copy cut in half, written to `tmp`.
    static func jpegs(_ tmp: TemporaryDirectory) throws -> (whole: FilterSubject, cut: FilterSubject) {
        let data = try ImageEncoder.jpeg(DecodedImage(width: 16, height: 16, channels: 3,
                                                      pixels: ImageFactory.pattern(width: 16, height: 16)))
        let whole = tmp.path("whole.jpg"), cut = tmp.path("cut.jpg")
        try data.write(to: whole)
        try data.prefix(data.count / 2).write(to: cut)
        let probe = try T.realProbe(data)
        return (T.subject(probe, file: whole, sha: sha(1)), T.subject(probe, file: cut, sha: sha(2)))
    }

    @Test func keepsAnImageThatDecodesAndDropsATruncatedOneWithTheDecoderMessage() async throws {
        let tmp = TemporaryDirectory()
        let (whole, cut) = try Self.jpegs(tmp)
        let rule = IntegrityRule(analyzer: PixelAnalyzer())
        let kept = await rule.decide(whole)
        #expect(kept.pass && kept.value == "decodes" && kept.threshold == "full decode")
        #expect(kept.reason == "jpeg decodes completely")
        let dropped = await rule.decide(cut)
        #expect(!dropped.pass && dropped.value == "error")
        #expect(dropped.reason.hasPrefix("jpeg does not decode: "))
        // A scripted decoder's message is recorded as it is.
        let scripted = await IntegrityRule(analyzer: ScriptedAnalyzer(corrupt: ["cut"])).decide(cut)
        #expect(scripted.reason == "jpeg does not decode: premature end of JPEG data")
    }

    @Test(arguments: [(255, false), (256, true)])
    func refusesImagesAboveTheDecodeLimit(maxPixels: Int, kept: Bool) async throws {
        let tmp = TemporaryDirectory()
        let (whole, _) = try Self.jpegs(tmp)
        let decision = await IntegrityRule(analyzer: PixelAnalyzer(), maxPixels: maxPixels).decide(whole)
        #expect(decision.pass == kept, "\(decision.reason)")
    }

    @Test func theVerifyingDecodeHandsItsExactPHashToTheByproducts() async throws {
        let tmp = TemporaryDirectory()
        let (whole, _) = try Self.jpegs(tmp)
        let hashes = PHashByproducts()
        _ = await IntegrityRule(analyzer: PixelAnalyzer(), hashes: hashes).decide(whole)
        let exact = try PixelAnalyzer().perceptualHash(fileAt: whole.fileURL, mode: .exact)
        #expect(hashes.drain() == [sha(1): exact])
    }

    /// Hashes are wanted only when duplicate grouping compares exact ones.
    @Test func theRegistryPassesTheByproductsOnlyForExactDuplicates() throws {
        let analyzer = ScriptedAnalyzer(), hashes = PHashByproducts()
        #expect(T.rule(IntegrityRule.self, analyzer: analyzer, hashes: hashes)?.hashes === hashes)
        var fast = FilterSettings()
        fast.phashMode = .fast
        #expect(T.rule(IntegrityRule.self, fast, analyzer: analyzer, hashes: hashes)?.hashes == nil)
        var noDuplicates = FilterSettings()
        noDuplicates.duplicates = false
        #expect(T.rule(IntegrityRule.self, noDuplicates, analyzer: analyzer, hashes: hashes)?.hashes == nil)
    }

    @Test func onByDefaultWhenAnAnalyzerIsWiredAndOffWhenTheRecipeSaysSo() throws {
        #expect(T.rule(IntegrityRule.self) == nil)  // no analyzer: nothing to decode with
        let rule = try #require(T.rule(IntegrityRule.self, analyzer: ScriptedAnalyzer()))
        #expect(rule.maxPixels == 178_956_970 && rule.settingsDescription == "178956970")
        #expect(T.rule(IntegrityRule.self, try T.settings("  integrity:\n    enabled: false\n"), analyzer: ScriptedAnalyzer()) == nil)
        let limited = T.rule(IntegrityRule.self, try T.settings("  integrity:\n    max_pixels: 1000\n"), analyzer: ScriptedAnalyzer())
        #expect(limited?.maxPixels == 1000)
        #expect(limited?.settingsHash != rule.settingsHash)
        #expect(T.recipeError("  integrity:\n    max_pixels: 0\n")?.key == "filter.integrity.max_pixels")
    }
}
