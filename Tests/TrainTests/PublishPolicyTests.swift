import Dataset
import Foundation
import Testing
@testable import Train
import Yams
import _DSBuildTestSupport

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
        #expect(LicenseTerms(id: "cc-by", url: "https://creativecommons.org/licenses/by/4.0/").hubID == "cc-by-4.0")
        #expect(LicenseTerms(id: "cc0", url: nil).hubID == "cc0-1.0")
        #expect(LicenseTerms(id: "pdm", url: nil).hubID == nil)
        #expect(LicenseTerms(id: "cc-by-nc-sa", url: "https://creativecommons.org/licenses/by-nc-sa/4.0/").displayName == "CC BY-NC-SA 4.0")
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

/// The attack report's findings on the release's rules, without the pipeline (the end-to-end proofs are in
/// CLITests' `publish` suite).
@Suite struct PublishHardeningTests {
    static let injectedURL = "https://creativecommons.org/licenses/by/4.0\nlicense: mit\nx_injected: yes/"

    @Test func aLicenceURLThatIsNotOneLineOfHTTPIsNeverUsedAndNoVersionIsCutFromIt() {
        let terms = LicenseTerms(id: "cc-by", url: Self.injectedURL)
        #expect(terms.url == "https://creativecommons.org/licenses/by/", "\(terms)")
        #expect(terms.version == nil && terms.hubID == nil)
        #expect(LicenseTerms(id: "cc-by", url: "https://creativecommons.org/licenses/by/4.0x/").version == nil)
        #expect(LicenseTerms(id: "cc-by", url: "javascript:alert(1)//").url == "https://creativecommons.org/licenses/by/")
    }

    @Test func noVersionIsInventedAndHubStyleIdsCount() {
        let unversioned = LicenseTerms(id: "cc-by", url: nil)
        #expect(unversioned.url == "https://creativecommons.org/licenses/by/" && unversioned.hubID == nil)
        #expect(unversioned.displayName == "CC BY (version not recorded)")
        // An id an older collect stored raw (`cc-by-4.0`) reads as CC BY 4.0, not as unknown.
        let hub = LicenseTerms(id: "cc-by-4.0", url: nil)
        #expect(hub.id == "cc-by" && hub.version == "4.0" && hub.hubID == "cc-by-4.0" && hub.refusal(commercial: true, modifications: []) == nil)
        // A raw spelling with restrictions an older collect stored as it was keeps them.
        #expect(LicenseTerms(id: "CC BY NC ND 4.0", url: nil).refusal(commercial: true, modifications: [])?.contains("forbids commercial use") == true)
    }

    @Test func aLicenceAndAURLThatDisagreeLeaveTheImageOut() {
        let terms = LicenseTerms(id: "cc-by", url: "https://creativecommons.org/licenses/by-nc/4.0/")
        #expect(terms.refusal(commercial: false, modifications: [])?.contains("conflicting licence") == true)
        #expect(LicenseTerms(id: "cc-by", url: "https://creativecommons.org/licenses/by/2.0/").refusal(commercial: true, modifications: []) == nil)
        #expect(LicenseTerms(id: "CC BY 2.0", url: "https://creativecommons.org/licenses/by/4.0/").refusal(commercial: true, modifications: [])?
            .contains("version") == true)
        // A URL-only licence is read from the URL.
        #expect(LicenseTerms(id: nil, url: "https://creativecommons.org/licenses/by-sa/3.0/").hubID == "cc-by-sa-3.0")
    }

    @Test func theSameBytesUnderConflictingLicencesAreLeftOutAndSharedCreditNamesEveryAuthor() {
        let alice = ImageOrigin(keywordID: 1, source: "directory", license: "cc-by", licenseURL: nil, author: "Alice", pageURL: "https://a.example/1")
        let bob = ImageOrigin(keywordID: 2, source: "directory", license: "cc-by-nc-nd", licenseURL: nil, author: "Bob", pageURL: "https://b.example/1")
        for preferred in [Int64(1), 2] {
            let (_, _, conflict) = PublishedImages.weigh([alice, bob], preferred: preferred)
            #expect(conflict?.contains("conflicting licence") == true && conflict?.contains("Bob") == true, "\(conflict ?? "published")")
        }
        // An older collect stored `cc-by` for `CC BY NC ND 4.0`; the raw spelling it kept is what counts.
        var misread = alice
        misread.rawLicense = "CC BY NC ND 4.0"
        let (_, misreadTerms, _) = PublishedImages.weigh([misread], preferred: 1)
        #expect(misreadTerms.id == "cc-by-nc-nd" && misreadTerms.version == "4.0", "\(misreadTerms)")
        var carol = alice
        carol.author = "Carol"
        let (origin, terms, conflict) = PublishedImages.weigh([alice, carol], preferred: 1)
        #expect(conflict == nil && terms.id == "cc-by" && origin?.author == "Alice; Carol")
    }

    @Test func theFrontMatterIsYAMLWhateverTheValuesHold() throws {
        let hostile = ["A\nlicense: mit\nx_injected: yes", "title\u{7F}\u{80}\u{1B}", "---", "<!-- dsbuild:end title -->", "yes", "1.0", "'\"#: &x *y"]
        for title in hostile {
            let yaml = DatasetCard.frontMatter(title: title, license: "other", languages: ["en", "en\nlicense: mit"], sizeCategory: "n<1K",
                                               configs: [("paired", ["train"]), ("mcq", ["train"])])
            let object = try #require(try Yams.load(yaml: yaml) as? [String: Any], "\(yaml)")
            #expect(Set(object.keys) == ["pretty_name", "license", "license_name", "license_link", "language", "task_categories",
                                         "size_categories", "configs"], "\(yaml)")
            #expect(object["pretty_name"] as? String == title && object["license"] as? String == "other", "\(yaml)")
            #expect(object["language"] as? [String] == ["en", "en\nlicense: mit"], "\(yaml)")
            #expect(!yaml.contains("\n---\n") && !yaml.unicodeScalars.contains { $0.value == 0x7F || $0.value == 0x80 || $0.value == 0x1B }, "\(yaml)")
            let configs = object["configs"] as? [[String: Any]] ?? []
            #expect(configs.map { $0["config_name"] as? String } == ["paired", "mcq"] && configs[0]["default"] as? Bool == true)
        }
        // Every image left out: no paired config; the default is the first config that has rows, never an empty one.
        let textOnly = try #require(try Yams.load(yaml: DatasetCard.frontMatter(title: "t", license: "other", languages: ["en"], sizeCategory: "n<1K",
                                                                              configs: [("text", ["train"]), ("mcq", ["train"])])) as? [String: Any])
        let textConfigs = textOnly["configs"] as? [[String: Any]] ?? []
        #expect(textConfigs.map { $0["config_name"] as? String } == ["text", "mcq"] && textConfigs[0]["default"] as? Bool == true
                && textConfigs[1]["default"] == nil)
        #expect(PublishSection.lineRule.problem(RecipeValue.string("a\u{7F}b", line: 1))?.contains("U+007F") == true)
        #expect(PublishSection.lineRule.problem(RecipeValue.string("a\u{80}b", line: 1)) != nil && PublishSection.lineRule.problem(RecipeValue.string("a\nb", line: 1)) != nil)
        #expect(PublishSection.lineRule.problem(RecipeValue.string("K-Viscuit 한국", line: 1)) == nil)
        #expect(PublishSection.isLanguageCode("pt-BR") && PublishSection.isLanguageCode("ko") && !PublishSection.isLanguageCode("en\nlicense: mit"))
    }

    @Test func generatedTextCannotEndARegionOrLinkToScript() {
        let hostile = "games <!-- dsbuild:end categories --> | ---\r\nlicense: mit <img src=x onerror=alert(1)>"
        let cell = CardText.cell(hostile)
        #expect(!cell.contains("<") && !cell.contains("\r") && !cell.contains("\n") && cell.contains("\\|"))
        #expect(CardText.link("x", "javascript:alert(1)//") == "x")
        #expect(CardText.link("x", "https://a.example/p\n| x") == "x")
        #expect(CardText.link("x", "https://a.example/p_(1)") == "[x](https://a.example/p_%281%29)")
        let code = CardText.codeBlock("@misc{a, note = {```}}\r\n<!-- dsbuild:end citation -->", language: "bibtex")
        #expect(code.hasPrefix("````bibtex\n") && code.hasSuffix("\n````\n") && !code.contains("<!--") && !code.contains("\r"))
        // A region's content holding a marker line is inert: republishing does not grow the card.
        let regions = [("categories", "| a |\n<!-- dsbuild:end categories -->\nmore"), ("citation", "<!-- dsbuild:begin citation -->")]
        let first = CardRegions.merge(frontMatter: "a: 1\n", regions: regions, template: "intro\n", existing: nil)
        let second = CardRegions.merge(frontMatter: "a: 1\n", regions: regions, template: "intro\n", existing: first)
        #expect(first == second, "the card grew:\n\(second)")
        #expect(first.components(separatedBy: "<!-- dsbuild:end categories -->").count == 2)
    }

    @Test func anUnterminatedRegionNeverSwallowsTheUsersText() {
        let template = CardRegions.wrap("title", "# T") + "\n\n" + CardRegions.wrap("funnel", "f1") + "\n\n" + CardRegions.wrap("citation", "c1") + "\n"
        let regions = [("title", "# T"), ("funnel", "f2"), ("citation", "c2")]
        var card = CardRegions.merge(frontMatter: "a: 1\n", regions: regions, template: template, existing: nil)
        // The user deletes the funnel's end marker and writes after the region.
        card = card.replacingOccurrences(of: CardRegions.end("funnel") + "\n", with: "\nOUR OWN TEXT\n")
        for _ in 0..<3 {
            card = CardRegions.merge(frontMatter: "a: 1\n", regions: regions, template: template, existing: card)
            #expect(card.contains("OUR OWN TEXT"), "\(card)")
            #expect(card.contains(CardRegions.wrap("funnel", "f2")) && card.contains(CardRegions.wrap("citation", "c2")))
        }
        let again = CardRegions.merge(frontMatter: "a: 1\n", regions: regions, template: template, existing: card)
        #expect(again == card, "the card changes on every republish")
    }

    @Test func csvCellsASpreadsheetWouldRunAreDefused() {
        #expect(Attribution.csvField("=HYPERLINK(\"http://evil.example\")") == "\"'=HYPERLINK(\"\"http://evil.example\"\")\"")
        #expect(Attribution.csvField("+1") == "'+1" && Attribution.csvField("-2") == "'-2" && Attribution.csvField("@SUM(A1)") == "'@SUM(A1)")
        #expect(Attribution.csvField("Kim") == "Kim")
    }

    @Test func anEmptySplitIsNeverAFile() {
        let table = PublishTable(config: "mcq", columns: PublishRows.mcqColumns,
                                 splits: [("train", [PublishRow(object: ["id": "q1"], bytes: 10)]), ("test", [])], rowMeaning: "")
        #expect(PublishFile.files(of: table, maxBytes: 1 << 20).map(\.path) == ["mcq/train-00000.parquet"])
    }

    @Test func theReleaseFolderIsNeverTheWorkspaceTheShardsOrAUsersFolderAndOnlyItsOwnFilesAreDeleted() throws {
        let tmp = TemporaryDirectory("dsbuild-release-folder")
        let workspace = tmp.path("ws"), shards = tmp.path("ws/shards")
        try FileManager.default.createDirectory(at: shards, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: shards.appendingPathComponent("paired-00000.tar"))
        func refusal(_ url: URL) -> String? {
            do { _ = try ReleaseFolder(url: url, workspace: workspace, shards: shards); return nil } catch { return "\(error)" }
        }
        #expect(refusal(workspace)?.contains("is the workspace") == true)
        #expect(refusal(tmp.url)?.contains("is the workspace or holds it") == true)
        #expect(refusal(shards)?.contains("shards folder") == true)
        let user = tmp.path("mine")
        try FileManager.default.createDirectory(at: user.appendingPathComponent("paired"), withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: user.appendingPathComponent("paired/notes.txt"))
        #expect(refusal(user)?.contains("not a dsbuild release") == true)
        try Data("f".utf8).write(to: tmp.path("afile"))
        #expect(refusal(tmp.path("afile"))?.contains("is a file") == true)

        // A release: one publish at a time; a re-publish deletes only the files the previous one wrote.
        let out = tmp.path("release")
        do {
            let first = try ReleaseFolder(url: out, workspace: workspace, shards: shards)
            #expect(refusal(out)?.contains("another publish") == true)
            try FileManager.default.createDirectory(at: out.appendingPathComponent("paired"), withIntermediateDirectories: true)
            try first.write(Data("old".utf8), "paired/train-00001.parquet")
            try first.write(Data("card".utf8), "README.md")
            try first.finish()
        }
        try Data("mine".utf8).write(to: out.appendingPathComponent("paired/train-notes.parquet"))
        let parquet = out.appendingPathComponent("paired/train-00000.parquet")
        do {
            let second = try ReleaseFolder(url: out, workspace: workspace, shards: shards)
            try second.write(Data("card".utf8), "README.md")
            try Data("rows".utf8).write(to: parquet)
            try second.record("paired/train-00000.parquet", plan: "p1")
            try second.finish()
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("paired/train-00001.parquet").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("paired/train-notes.parquet").path), "a file publish did not write was deleted")
        // A file is kept only with its plan and its recorded bytes (a file changed in place, same size, is not).
        let third = try ReleaseFolder(url: out, workspace: workspace, shards: shards)
        #expect(third.unchanged("paired/train-00000.parquet", plan: "p1"))
        #expect(!third.unchanged("paired/train-00000.parquet", plan: "p2"))
        try Data("rowz".utf8).write(to: parquet)
        #expect(!third.unchanged("paired/train-00000.parquet", plan: "p1"))
    }
}
