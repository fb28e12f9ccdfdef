import Dataset
import Testing

/// The one line splitter: LF, CRLF and CR, 1-based numbers (Swift's `split(separator: "\n")` never splits CRLF).
@Suite struct TextLinesTests {
    @Test(arguments: [
        ("a\nb\n\nc", ["a", "b", "", "c"]),
        ("a\r\nb\r\n\r\nc\r\n", ["a", "b", "", "c"]),
        ("a\rb\r\rc\r", ["a", "b", "", "c"]),
        ("a\r\nb\rc\nd", ["a", "b", "c", "d"]),
        ("", []),
        ("\n", [""]),
        ("only", ["only"]),
    ])
    func everyLineEndSplitsAndNumbersLinesFromOne(text: String, expected: [String]) {
        let lines = TextLines.split(text)
        #expect(lines.map(\.text) == expected)
        #expect(lines.map(\.number) == Array(0..<expected.count).map { $0 + 1 })
    }

    @Test func firstLineStopsAtAnyLineEnd() {
        #expect(TextLines.first(of: "{\"keyword\": 1}\r\n{}") == "{\"keyword\": 1}")
        #expect(TextLines.first(of: "a\tb\rc") == "a\tb")
    }
}

/// Keyword files from Windows and old Mac editors, and the keywords a reader must refuse.
@Suite struct KeywordLineEndTests {
    let reader = KeywordFileReader()

    @Test func crlfTextFileWithACommentReadsEveryKeyword() {
        let result = reader.parse(text: "# comment\r\none\r\ntwo\r\n\r\nthree", format: .txt, fileName: "k.txt")
        #expect(result.keywords.map(\.text) == ["one", "two", "three"])
        #expect(result.errors.isEmpty)
    }

    @Test func crOnlyTextFileReadsEveryKeyword() {
        let result = reader.parse(text: "one\rtwo\r\rthree\r", format: .txt, fileName: "k.txt")
        #expect(result.keywords.map(\.text) == ["one", "two", "three"])
    }

    @Test func crlfJSONLinesAreRead() {
        let result = reader.parse(text: "{\"keyword\": \"a\"}\r\n{\"keyword\": \"b\"}\r\n", format: .jsonl, fileName: "k.jsonl")
        #expect(result.keywords.map(\.text) == ["a", "b"])
        #expect(result.errors.isEmpty)
    }

    @Test func nulEmptyAndOverlongKeywordsAreRefusedWithTheirLines() {
        let long = String(repeating: "가", count: KeywordText.maxLength + 1)
        let text = "ok\r\nbad\u{0}nul\r\n\u{200B}\u{2060}\r\n\(long)\r\n\(String(repeating: "x", count: KeywordText.maxLength))\r\n"
        let result = reader.parse(text: text, format: .txt, fileName: "k.txt")
        #expect(result.keywords.map(\.text) == ["ok", String(repeating: "x", count: KeywordText.maxLength)],
                "an invisible-only line is a blank line, not a keyword")
        #expect(result.errors.map(\.line) == [2, 4])
        #expect(result.errors[0].description == "k.txt:2: contains a NUL byte; save the file as plain UTF-8 text")
        #expect(result.errors[1].message == "keyword is 201 characters, over the limit of 200")
        let json = reader.parse(text: "{\"keyword\": \"\u{2060}\"}\n", format: .jsonl, fileName: "k.jsonl")
        #expect(json.keywords.isEmpty)
        #expect(json.errors.map(\.line) == [1])
    }

    @Test func jsonEscapedNulAndEmptyCSVKeywordAreRefused() {
        let jsonl = reader.parse(text: "{\"keyword\": \"a\\u0000b\"}\n{\"keyword\": \"c\"}\n", format: .jsonl, fileName: "k.jsonl")
        #expect(jsonl.keywords.map(\.text) == ["c"])
        #expect(jsonl.errors.map(\.line) == [1])
        let csv = reader.parse(text: "keyword,category\r\n\"\u{200B}\",food\r\nkimchi,food\r\n", format: .csv, fileName: "k.csv")
        #expect(csv.keywords.map(\.text) == ["kimchi"])
        #expect(csv.errors.map(\.line) == [2])
    }
}
