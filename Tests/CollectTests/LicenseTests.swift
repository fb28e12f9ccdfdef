import Collect
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

    @Test(arguments: ["All rights reserved", "GFDL", "", "by-foo", "cc-by-nd-sa"])
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
