import Foundation
import Testing
@testable import Train

/// The rules `dsbuild publish` applies without the pipeline: which licence allows which release, and how a
/// re-publish merges the generated card regions into a card a user edited.
@Suite struct PublishPolicyTests {
    struct Case: CustomStringConvertible, Sendable {
        let license: String?, commercial: Bool, modifications: [String], refused: String?
        var description: String { "\(license ?? "none") commercial=\(commercial) modified=\(!modifications.isEmpty)" }
    }

    static let cases: [Case] = [
        Case(license: "cc-by", commercial: true, modifications: ["resized"], refused: nil),
        Case(license: "cc-by-sa", commercial: true, modifications: [], refused: nil),
        Case(license: "cc0", commercial: true, modifications: ["resized"], refused: nil),
        Case(license: "pdm", commercial: true, modifications: [], refused: nil),
        Case(license: "cc-by-nc", commercial: false, modifications: ["resized"], refused: nil),
        Case(license: "cc-by-nc", commercial: true, modifications: [], refused: "forbids commercial use"),
        Case(license: "cc-by-nc-sa", commercial: true, modifications: [], refused: "forbids commercial use"),
        Case(license: "cc-by-nd", commercial: true, modifications: [], refused: nil),
        Case(license: "cc-by-nd", commercial: false, modifications: ["resized from 800×600 to 128×96"], refused: "forbids adaptations"),
        Case(license: "cc-by-nc-nd", commercial: false, modifications: ["rotated upright (EXIF orientation 6)"], refused: "forbids adaptations"),
        Case(license: nil, commercial: false, modifications: [], refused: "no licence recorded"),
        Case(license: "All rights reserved", commercial: false, modifications: [], refused: "not an open licence"),
    ]

    @Test(arguments: cases)
    func aLicenceAllowsExactlyTheReleasesItsTermsAllow(_ c: Case) {
        let refusal = LicenseTerms(id: c.license, url: nil).refusal(commercial: c.commercial, modifications: c.modifications)
        if let expected = c.refused {
            #expect(refusal?.contains(expected) == true, "\(c): \(refusal ?? "allowed")")
        } else {
            #expect(refusal == nil, "\(c): \(refusal ?? "")")
        }
    }

    @Test func theHubIdAndDeedFollowTheVersionTheSourceGave() {
        #expect(LicenseTerms(id: "cc-by-sa", url: "https://creativecommons.org/licenses/by-sa/3.0/").hubID == "cc-by-sa-3.0")
        #expect(LicenseTerms(id: "cc-by", url: nil).url == "https://creativecommons.org/licenses/by/4.0/")
        #expect(LicenseTerms(id: "cc-by", url: nil).hubID == "cc-by-4.0")
        #expect(LicenseTerms(id: "cc0", url: nil).hubID == "cc0-1.0")
        #expect(LicenseTerms(id: "pdm", url: nil).hubID == nil)
        #expect(LicenseTerms(id: "cc-by-nc-sa", url: nil).displayName == "CC BY-NC-SA 4.0")
    }

    @Test func aRepublishRewritesRegionsAndFrontMatterAndKeepsEverythingElse() {
        let template = CardRegions.wrap("title", "# Old") + "\n\nintro\n\n" + CardRegions.wrap("funnel", "old funnel") + "\n"
        let first = CardRegions.merge(frontMatter: "license: cc-by-4.0\n", regions: [("title", "# Old"), ("funnel", "old funnel")],
                                      template: template, existing: nil)
        #expect(first == "---\nlicense: cc-by-4.0\n---\n" + template)
        // The user writes between regions, edits inside one, and uses CRLF line ends.
        let edited = first.replacingOccurrences(of: "intro", with: "intro\n\nOur own words — 한국어.")
            .replacingOccurrences(of: "old funnel", with: "hand-edited").replacingOccurrences(of: "\n", with: "\r\n")
        let again = CardRegions.merge(frontMatter: "license: other\n", regions: [("title", "# New"), ("funnel", "new funnel"), ("citation", "cite me")],
                                      template: template, existing: edited)
        #expect(again.hasPrefix("---\nlicense: other\n---\n"))
        #expect(again.contains("Our own words — 한국어."))
        #expect(again.contains(CardRegions.wrap("title", "# New")) && again.contains(CardRegions.wrap("funnel", "new funnel")))
        #expect(!again.contains("hand-edited") && !again.contains("# Old"))
        #expect(again.hasSuffix(CardRegions.wrap("citation", "cite me") + "\n"), "a region the card lacked is appended")
    }

    @Test func csvFieldsWithCommasQuotesAndLineBreaksAreQuoted() {
        #expect(Attribution.csvField("plain") == "plain")
        #expect(Attribution.csvField("Kim, Min-ji") == "\"Kim, Min-ji\"")
        #expect(Attribution.csvField("the \"best\"\nphoto") == "\"the \"\"best\"\"\nphoto\"")
    }
}
