import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

@Suite struct KeywordFileReaderTests {
    let reader = KeywordFileReader()

    @Test func txtSkipsCommentsAndBlankLinesAndMergesDuplicates() {
        let result = reader.parse(text: "# butterflies\nPapilio machaon\n\n  Vanessa atalanta  \nPapilio machaon\n", format: .txt, fileName: "k.txt")
        #expect(result.keywords.map(\.text) == ["Papilio machaon", "Vanessa atalanta"])
        #expect(result.duplicatesMerged == 1)
        #expect(result.errors.isEmpty)
    }

    @Test func byteOrderMarkIsDroppedAndKoreanIsExact() {
        let result = reader.parse(text: "\u{FEFF}갓\n한복\n붕어빵\n", format: .txt, fileName: "k.txt")
        #expect(result.keywords.map(\.text) == ["갓", "한복", "붕어빵"])
        let csv = reader.parse(text: "\u{FEFF}keyword,category\n갓,의복\n", format: .csv, fileName: "k.csv")
        #expect(csv.keywords == [KeywordEntry(text: "갓", category: "의복")])
    }

    @Test func csvReadsKnownColumnsAndKeepsOthersAsExtra() {
        let text = "keyword,category,query,language,genus\nPapilio machaon,butterfly,\"Papilio machaon, swallowtail\",en,Papilio\n"
        let result = reader.parse(text: text, format: .csv, fileName: "k.csv")
        #expect(result.errors.isEmpty)
        #expect(result.keywords == [KeywordEntry(text: "Papilio machaon", category: "butterfly",
                                                 language: "en", query: "Papilio machaon, swallowtail",
                                                 extra: ["genus": "Papilio"])])
    }

    @Test func csvQuotingWithDoubledQuotesAndNewlines() {
        let text = "keyword,note\n\"Gat \"\"hat\"\"\",\"two\nlines\"\nHanbok,plain\n"
        let result = reader.parse(text: text, format: .csv, fileName: "k.csv")
        #expect(result.errors.isEmpty)
        #expect(result.keywords.map(\.text) == ["Gat \"hat\"", "Hanbok"])
        #expect(result.keywords.first?.extra["note"] == "two\nlines")
    }

    /// A line break in a category started a new line of every document prompt it was written into (found by the
    /// attack on local base-model prompting): a category or query with a control character is refused by line.
    @Test func aCategoryOrQueryWithAControlCharacterIsRefusedWithItsLine() {
        let text = "keyword,category,query\nKimchi,\"food\n\nRed fox\",\nGat,clothing,\"gat\u{7}hat\"\nHanbok,clothing,hanbok\n"
        let result = reader.parse(text: text, format: .csv, fileName: "k.csv")
        #expect(result.keywords.map(\.text) == ["Hanbok"])
        #expect(result.errors.map(\.line) == [2, 5])
        #expect(result.errors.first?.message == "its category contains the control character U+000A")
        #expect(result.errors.last?.message == "its query contains the control character U+0007")
    }

    @Test func csvBadLinesAreReportedWithTheirLineNumbers() {
        let text = "keyword,category\nGat,clothing\nbad\"quote,x\nHanbok,clothing,extra\n,empty\nKimchi,food\n\"unterminated,food\n"
        let result = reader.parse(text: text, format: .csv, fileName: "k.csv")
        #expect(result.keywords.map(\.text) == ["Gat", "Kimchi"])
        #expect(result.errors.map(\.line) == [3, 4, 5, 7])
        #expect(result.errors[1].description.contains("k.csv:4"))
        #expect(result.errors[1].message.contains("3 fields"))
        #expect(result.errors[3].message.contains("unterminated"))
    }

    @Test func tsvWithCRLFLineEnds() {
        let result = reader.parse(text: "keyword\tcategory\r\nGat\tclothing\r\nHanbok\tclothing\r\n", format: .tsv, fileName: "k.tsv")
        #expect(result.keywords.map(\.text) == ["Gat", "Hanbok"])
        #expect(result.keywords.allSatisfy { $0.category == "clothing" })
    }

    @Test func csvWithoutAKeywordColumnIsOneClearError() {
        let result = reader.parse(text: "species,family\nx,y\n", format: .csv, fileName: "k.csv")
        #expect(result.keywords.isEmpty)
        #expect(result.errors.count == 1)
        #expect(result.errors[0].line == 1)
        #expect(result.errors[0].message.contains("keyword"))
    }

    @Test func jsonlReadsObjectsAndReportsBadLines() {
        let text = """
            {"keyword": "Gat", "category": "clothing", "genus": null, "rank": 3}
            not json
            {"category": "food"}
            {"text": "김치", "language": "ko", "tags": ["a", "b"]}
            """
        let result = reader.parse(text: text, format: .jsonl, fileName: "k.jsonl")
        #expect(result.keywords.map(\.text) == ["Gat", "김치"])
        #expect(result.keywords[0].extra == ["rank": "3"])
        #expect(result.keywords[1].language == "ko")
        #expect(result.keywords[1].extra["tags"] == "[\"a\",\"b\"]")
        #expect(result.errors.map(\.line) == [2, 3])
    }

    @Test func duplicatesMergeTheirFields() {
        let text = "keyword,category,query\nGat,,\nGat,clothing,gat hat\n"
        let result = reader.parse(text: text, format: .csv, fileName: "k.csv")
        #expect(result.keywords == [KeywordEntry(text: "Gat", category: "clothing", query: "gat hat")])
    }

    @Test func formatIsPickedFromTheExtension() {
        #expect(KeywordFileReader.format(for: URL(fileURLWithPath: "a.csv"), text: "") == .csv)
        #expect(KeywordFileReader.format(for: URL(fileURLWithPath: "a.tsv"), text: "") == .tsv)
        #expect(KeywordFileReader.format(for: URL(fileURLWithPath: "a.jsonl"), text: "") == .jsonl)
        #expect(KeywordFileReader.format(for: URL(fileURLWithPath: "a"), text: "{\"keyword\":1}") == .jsonl)
    }

    @Test func realKViscuitKeywordsRoundTripThroughTheManifest() throws {
        let items = try KViscuitFixture.type1Items()
        #expect(items.count == 237)
        var csv = "keyword,category\n"
        for item in items { csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category)\n" }
        let tmp = TemporaryDirectory()
        let file = tmp.path("kv.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        let result = try reader.read(contentsOf: file)
        #expect(result.errors.isEmpty)
        let unique = Set(items.map(\.keyword))
        #expect(result.keywords.count == unique.count)
        let ws = try Workspace.create(at: tmp.path("ws"))
        try KeywordStore.insert(result.keywords, into: ws.manifest)
        try KeywordStore.insert(result.keywords, into: ws.manifest)
        let stored = try KeywordStore.all(in: ws.manifest)
        #expect(Set(stored.map(\.entry.text)) == unique)
    }
}
