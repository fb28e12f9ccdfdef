import Dataset
@testable import Filter
import Foundation
import Testing
import _DSBuildTestSupport

@Suite struct RightsRuleTests {
    typealias T = RuleTesting

    static let dataMining = "xmp.plus.data_mining"

    @Test(arguments: ["DMI-PROHIBITED", "DMI-PROHIBITED-AIMLTRAINING", "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"])
    func aDataMiningProhibitionDropsTheImage(value: String) async {
        let probe = T.probe(width: 800, height: 800, rights: [Self.dataMining: "http://ns.useplus.org/ldf/vocab/\(value)"])
        let decision = await RightsRule().decide(T.subject(probe))
        #expect(!decision.pass && decision.value == value && decision.threshold == "not prohibited")
        #expect(decision.reason == "plus:DataMining \(value) prohibits AI/ML training")
    }

    @Test func anAllowingOrMissingStatementKeepsTheImage() async {
        let allowed = T.probe(width: 8, height: 8, rights: [Self.dataMining: "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED"])
        let kept = await RightsRule().decide(T.subject(allowed))
        #expect(kept.pass && kept.reason == "plus:DataMining DMI-ALLOWED")
        let none = await RightsRule().decide(T.subject(T.probe(width: 8, height: 8)))
        #expect(none.pass && none.value == "unspecified" && none.reason == "no DataMining statement")
        let empty = await RightsRule().decide(T.subject(T.probe(width: 8, height: 8, rights: [Self.dataMining: ""])))
        #expect(empty.pass && empty.value == "unspecified")
    }

    /// The statement is read from the file's XMP by the real probe (what collect stores).
    @Test func readsTheStatementAJPEGCarriesInItsXMP() async throws {
        let data = ImageFactory.jpegHeader(width: 16, height: 16, segments: [ImageFactory.xmpAPP1(ImageFactory.prohibitedXMP)])
        let decision = await RightsRule().decide(T.subject(try T.realProbe(data)))
        #expect(decision.reason == "plus:DataMining DMI-PROHIBITED prohibits AI/ML training")
    }

    @Test func onByDefaultAndOffWhenTheRecipeSaysSo() throws {
        #expect(T.rule(RightsRule.self)?.settingsDescription == "dmi-prohibited")
        #expect(T.rule(RightsRule.self, try T.settings("  rights:\n    enabled: false\n")) == nil)
    }
}
