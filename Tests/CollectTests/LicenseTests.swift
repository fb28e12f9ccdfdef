import Collect
import Dataset
import Testing

@Suite struct LicenseTests {
    @Test(arguments: [
        ("CC BY-SA 4.0", "cc-by-sa"), ("cc-by-sa", "cc-by-sa"), ("by-sa", "cc-by-sa"), ("BY", "cc-by"),
        ("CC0", "cc0"), ("cc0 1.0", "cc0"), ("Public domain", "pdm"), ("pdm", "pdm"), ("cc-by-nc", "cc-by-nc"),
        ("CC BY-NC-ND 2.0", "cc-by-nc-nd"), ("http://creativecommons.org/licenses/by/4.0/", "cc-by"),
        ("https://creativecommons.org/publicdomain/zero/1.0/legalcode", "cc0"),
        ("https://creativecommons.org/licenses/by-nc-sa/3.0/", "cc-by-nc-sa"),
    ])
    func normalisesEachSourcesSpelling(raw: String, expected: String) {
        #expect(License.normalize(raw) == expected)
    }

    /// Every restriction a spelling names counts, in any separator style; Hub-style ids with a version read too.
    @Test(arguments: [
        ("CC BY NC ND 4.0", "cc-by-nc-nd"), ("CC BY NC 4.0", "cc-by-nc"), ("CC BY (non-commercial use only)", "cc-by-nc"),
        ("cc_by_nc_sa", "cc-by-nc-sa"), ("CC BY ND", "cc-by-nd"), ("cc-by-4.0", "cc-by"), ("CC-BY-SA-4.0", "cc-by-sa"),
        ("Creative Commons Attribution-NonCommercial-NoDerivs 3.0 Unported", "cc-by-nc-nd"), ("CC BY-SA 3.0 DE", "cc-by-sa"),
        ("Attribution-ShareAlike 4.0 International", "cc-by-sa"), ("cc-by-nc-nd-4.0", "cc-by-nc-nd"),
    ])
    func restrictionsAnywhereInTheSpellingCount(raw: String, expected: String) {
        #expect(License.normalize(raw) == expected)
    }

    @Test func theVersionIsReadNeverAssumed() {
        #expect(License.version("CC BY 2.0") == "2.0")
        #expect(License.version("CC BY-NC 4.0") == "4.0")
        #expect(License.version("cc-by-sa-3.0") == "3.0")
        #expect(License.version("https://creativecommons.org/licenses/by-nc/4.0/") == "4.0")
        #expect(License.version("CC BY") == nil)
        #expect(License.version("by-sa") == nil)
        #expect(License.version("https://creativecommons.org/licenses/by/4.0\nlicense: mit\nx_injected: yes/") == nil)
    }

    @Test(arguments: ["All rights reserved", "GFDL", "", "by-foo", "cc-by-nd-sa", "CC BY except commercial use", "copyrighted",
                      "https://example.org/my-license", "https://creativecommons.org/licenses/by/4.0\nlicense: mit\nx_injected: yes/",
                      "CC BY\u{0}", "https://creativecommons.org/licenses/by/4.0.evil/x"])
    func unknownLicencesAreNil(raw: String) {
        #expect(License.normalize(raw) == nil)
    }

    @Test func filterAcceptsOnlyListedLicencesAndRejectsUnknown() throws {
        let filter = try LicenseFilter(parsing: ["CC0", "cc-by", "by-sa"])
        #expect(filter.allowed == ["cc0", "cc-by", "cc-by-sa"])
        #expect(filter.accepts("cc-by"))
        #expect(!filter.accepts("cc-by-nc"))
        #expect(!filter.accepts(nil))
        #expect(LicenseFilter.any.accepts(nil))
    }

    @Test func filterRefusesAnUnknownLicenceName() {
        #expect(throws: CollectError.self) { try LicenseFilter(parsing: ["cc-whatever"]) }
    }
}
