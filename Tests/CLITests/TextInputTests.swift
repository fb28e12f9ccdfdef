import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Case 1 of issue 15 through the binary: CRLF keyword files used to collapse into one keyword (or zero with a
/// leading comment) and exit 0; NUL bytes truncated keywords and an empty keyword was stored.
@Suite struct TextInputTests {
    let cli = CommandRunner()

    @Test func initReadsCRLFKeywordFileAndRefusesBadLinesWithFileLineAndNonZeroExit() throws {
        let tmp = TemporaryDirectory()
        let file = tmp.path("k.txt")
        let text = "# comment\r\none\r\ntwo\r\n\r\nthree\rbad\u{0}nul\r\n\u{200B}\r\n\(String(repeating: "x", count: 201))\r\nfour"
        try Data(text.utf8).write(to: file)
        let result = try cli.run(["init", tmp.path("w").path, "--keywords", file.path, "--json"])
        #expect(result.status == 1, "bad lines make the exit status non-zero")
        #expect(result.stderr.contains("\(file.path):6: contains a NUL byte"), "\(result.stderr)")
        #expect(!result.stderr.contains("\(file.path):7:"), "a line of only a zero-width space is a blank line")
        #expect(result.stderr.contains("\(file.path):8: keyword is 201 characters, over the limit of 200"))
        let stored = try Hardening.rows(tmp.path("w"), "SELECT text FROM keywords ORDER BY id").map { $0[0] }
        #expect(stored == ["one", "two", "three", "four"])
        #expect(try result.json()["bad_lines"] as? Int == 2)
    }

    @Test func initReadsCRLFJSONLinesAndCSV() throws {
        let tmp = TemporaryDirectory()
        try Data("{\"keyword\": \"bibimbap\"}\r\n{\"keyword\": \"kimchi\", \"category\": \"food\"}\r\n".utf8).write(to: tmp.path("k.jsonl"))
        let jsonl = try cli.run(["init", tmp.path("a").path, "--keywords", tmp.path("k.jsonl").path])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        #expect(try Hardening.rows(tmp.path("a"), "SELECT text FROM keywords ORDER BY id").map { $0[0] } == ["bibimbap", "kimchi"])
        try Data("keyword,category\r\nhanbok,clothing\r\n\"gat, hat\",clothing\r\n".utf8).write(to: tmp.path("k.csv"))
        let csv = try cli.run(["init", tmp.path("b").path, "--keywords", tmp.path("k.csv").path])
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(try Hardening.rows(tmp.path("b"), "SELECT text FROM keywords ORDER BY id").map { $0[0] } == ["hanbok", "gat, hat"])
    }

    /// A keyword typed precomposed (NFC) and the same keyword as a decomposed folder name (NFD, as macOS writes
    /// file names) are one keyword: stored once, its images collected once, no "same image under 김치, 김치".
    @Test func aDecomposedFolderNameIsTheSameKeywordAsItsPrecomposedSpelling() throws {
        let tmp = TemporaryDirectory()
        let nfc = "김치".precomposedStringWithCanonicalMapping
        let nfd = nfc.decomposedStringWithCanonicalMapping
        try #require(Array(nfc.utf8) != Array(nfd.utf8))
        try Data((nfc + "\n").utf8).write(to: tmp.path("k.txt"))
        let files = try Hardening.images(count: 2, maxBytes: 300_000)
        let photos = try Hardening.directorySource(files, keyword: nfd, in: tmp.path("photos"))
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path, "--keywords", tmp.path("k.txt").path]).status == 0)
        let collected = try cli.run(["collect", "--workspace", w.path, "--sources", "directory", "--source-file", photos.path, "--quiet"])
        #expect(collected.status == 0, "\(collected.stderr)")
        let stored = try Hardening.rows(w, "SELECT hex(text) FROM keywords")
        #expect(stored == [[Array(nfc.utf8).map { String(format: "%02X", $0) }.joined()]], "\(stored)")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM candidates") == [["\(files.count)"]])
    }

    @Test func anEmptyKeywordIsRefusedNotStored() throws {
        let tmp = TemporaryDirectory()
        try Data("keyword,category\r\n\"\u{2060}\",food\r\n\"  \",food\r\nkimchi,food\r\n".utf8).write(to: tmp.path("k.csv"))
        let result = try cli.run(["init", tmp.path("w").path, "--keywords", tmp.path("k.csv").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("k.csv:2: "), "\(result.stderr)")
        #expect(result.stderr.contains("k.csv:3: "))
        #expect(try Hardening.rows(tmp.path("w"), "SELECT text FROM keywords") == [["kimchi"]])
    }

    @Test func crlfRecipeIsRead() throws {
        let tmp = TemporaryDirectory()
        try Data("name: crlf\r\ncollect:\r\n  per_keyword: 3\r\n  licenses: any\r\n".utf8).write(to: tmp.path("r.yaml"))
        let result = try cli.run(["init", tmp.path("w").path, "--recipe", tmp.path("r.yaml").path])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
