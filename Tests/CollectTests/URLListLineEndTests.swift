import Collect
import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// URL lists written on Windows (CRLF) or with bad rows: every good row is read, bad ones are named by line.
@Suite struct URLListLineEndTests {
    @Test func crlfJSONLinesListIsReadWithLineNumbers() throws {
        let dir = TemporaryDirectory()
        let file = dir.path("l.jsonl")
        try "{\"url\": \"https://a.example/1.jpg\", \"kw\": \"one\"}\r\n{\"url\": \"https://a.example/2.jpg\", \"kw\": \"two\"}\r\nnot json\r\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let source = try URLListSource(file: file, columns: .init(keyword: "kw")).whole()
        #expect(source.keywords == ["one", "two"])
        #expect(source.problems == ["l.jsonl:3: not a JSON object"])
    }

    @Test func nulInAURLAndAnOverlongKeywordAreRefused() throws {
        let dir = TemporaryDirectory()
        let file = dir.path("l.csv")
        let long = String(repeating: "k", count: KeywordText.maxLength + 1)
        try "url,kw\r\nhttps://a.example/1.jpg,one\r\nhttps://a.example/2\u{0}.jpg,two\r\nhttps://a.example/3.jpg,\(long)\r\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let source = try URLListSource(file: file, columns: .init(keyword: "kw")).whole()
        #expect(source.keywords == ["one"])
        #expect(source.problems == ["l.csv:3: the URL contains a NUL byte",
                                    "l.csv:4: keyword is 201 characters, over the limit of 200"])
    }
}
