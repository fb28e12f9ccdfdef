@testable import Collect
import Dataset
import Foundation
import GRDB
import Logging
import Testing
import _DSBuildTestSupport

/// A text URL list is streamed a block of bytes at a time and handed on a batch of rows at a time; what comes out
/// does not depend on where the blocks or batches end. Collect writes each batch as it comes (`ListStage`), with the
/// licence filter, and passes over the rows of keywords searched before.
@Suite struct URLListStreamingTests {
    /// A CSV as the world writes them: a byte-order mark, CRLF, quoted fields holding commas, quotes and line breaks
    /// (a caption over three lines), Hangul, a broken quote, a row without a URL and blank lines.
    static let csv = "\u{FEFF}url,caption,kw,LICENSE\r\n"
        + "http://h/1.jpg,\"김치, in a jar\",김치,CC BY 4.0\r\n"
        + "http://h/2.jpg,\"a \"\"quoted\"\" word\nover\r\nthree lines\",bibimbap,CC0\r\n"
        + "\r\n"
        + "http://h/3.jpg,\"broken \"quote,김치,CC0\r\n"
        + ",no url,김치,CC0\r\n"
        + "http://h/4.jpg,한복 입은 사람,한복,CC BY-NC 4.0\r\n"
        + "http://h/5.jpg,last,김치,CC BY 4.0"

    static func read(_ source: URLListSource) throws -> (batches: [[ListedCandidate]], problems: [String]) {
        var batches: [[ListedCandidate]] = []
        var problems: [String] = []
        try source.stream(problem: { problems.append($0) }) { batches.append($0) }
        return (batches, problems)
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func aCSVReadInSmallBlocksAndBatchesGivesTheRowsOfTheWholeFile(_ blockBytes: Int) throws {
        let dir = TemporaryDirectory()
        let file = dir.path("list.csv")
        try Data(Self.csv.utf8).write(to: file)
        let whole = try Self.read(URLListSource(file: file, columns: .init(keyword: "kw")))
        #expect(whole.batches.count == 1, "a small list is one batch")
        var source = try URLListSource(file: file, columns: .init(keyword: "kw"))
        source.textBlockBytes = blockBytes
        source.batchRows = 2
        let streamed = try Self.read(source)
        #expect(streamed.batches.allSatisfy { $0.count <= 2 } && streamed.batches.count == 2)
        #expect(streamed.batches.flatMap { $0 } == whole.batches.flatMap { $0 })
        #expect(streamed.problems == whole.problems)
        #expect(whole.problems == ["list.csv:7: unexpected text after a closing quote", "list.csv:8: empty `url`"], "\(whole.problems)")
        let rows = whole.batches.flatMap { $0 }
        #expect(rows.map(\.keyword) == ["김치", "bibimbap", "한복", "김치"])
        #expect(rows.map { $0.candidate.rank } == [0, 0, 0, 1], "each row's place among its keyword's rows")
        #expect(rows[0].candidate.description == "김치, in a jar" && rows[0].candidate.extra["line"] == "2")
        #expect(rows[1].candidate.description == "a \"quoted\" word\nover\r\nthree lines" && rows[1].candidate.extra["line"] == "3")
        #expect(rows[3].candidate.imageURL == "http://h/5.jpg" && rows[3].candidate.extra["line"] == "10")
    }

    @Test(arguments: [1, 5, 1 << 20])
    func aJSONLinesListWithLoneCRAndBlankLinesKeepsItsLineNumbers(_ blockBytes: Int) throws {
        let dir = TemporaryDirectory()
        let file = dir.path("list.jsonl")
        try Data("{\"url\": \"http://h/1.jpg\"}\r\r{\"url\": \"http://h/2.jpg\", \"pwatermark\": 0.5}\rnot json\n{\"url\": \"http://h/3.jpg\"}".utf8).write(to: file)
        var source = try URLListSource(file: file)
        source.textBlockBytes = blockBytes
        let read = try Self.read(source)
        let rows = read.batches.flatMap { $0 }
        #expect(rows.map { $0.candidate.extra["line"] } == ["1", "3", "5"])
        #expect(rows[1].candidate.extra["pwatermark"] == "0.5")
        #expect(read.problems == ["list.jsonl:4: not a JSON object"])
    }

    @Test func aListThatIsNotUTF8IsOneErrorNamingTheFile() throws {
        let dir = TemporaryDirectory()
        let file = dir.path("latin1.csv")
        try Data("url,caption\nhttp://h/1.jpg,caf".utf8 + [0xE9] + "\n".utf8).write(to: file)
        #expect {
            try Self.read(URLListSource(file: file))
        } throws: { "\($0)".contains("latin1.csv") && "\($0)".contains("not UTF-8 text") }
    }

    /// Through the collector: the licence filter holds back refused rows; the keywords come in file order; a rerun
    /// after the list grew passes over the keywords already searched and adds only the new keyword's rows.
    @Test func collectWritesTheListWithTheLicenceFilterAndPassesOverSearchedKeywords() async throws {
        let dir = TemporaryDirectory()
        let file = dir.path("list.csv")
        try Data(Self.csv.utf8).write(to: file)
        let workspace = try Workspace.create(at: dir.path("ws"))
        var settings = CollectSettings()
        settings.sources = [URLListSource.sourceName]
        settings[URLListSource.self].file = file.path
        settings[URLListSource.self].keywordColumn = "kw"
        settings.searchOnly = true
        let collector = Collector(workspace: workspace, settings: settings, logger: Logger(label: "test"))
        let first = try await collector.run(runner: .quiet(workspace))
        #expect(first.keywordsAdded == 3 && first.search.pending == 3 && first.problems.count == 2)
        func stored() throws -> [[String]] {
            try workspace.manifest.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT k.text, c.image_url, c.rank FROM candidates c JOIN keywords k ON k.id = c.keyword_id ORDER BY c.id
                    """).map { [$0["text"], $0["image_url"], String($0["rank"] as Int)] }
            }
        }
        // 한복's only row is CC BY-NC: refused by the default filter, yet 한복 is searched (found 0).
        #expect(try stored() == [["김치", "http://h/1.jpg", "0"], ["bibimbap", "http://h/2.jpg", "0"], ["김치", "http://h/5.jpg", "1"]])
        let found = try workspace.manifest.read { db in
            try Row.fetchAll(db, sql: "SELECT k.text, s.found FROM source_searches s JOIN keywords k ON k.id = s.keyword_id ORDER BY k.id")
                .map { "\($0["text"] as String)=\($0["found"] as Int)" }
        }
        #expect(found == ["김치=2", "bibimbap=1", "한복=0"])
        try Data((Self.csv + "\r\nhttp://h/6.jpg,more,김치,CC0\r\nhttp://h/7.jpg,new,tteok,CC0\r\n").utf8).write(to: file)
        let again = try await collector.run(runner: .quiet(workspace))
        #expect(again.keywordsAdded == 1 && again.search.pending == 1)
        #expect(try stored().suffix(2) == [["김치", "http://h/5.jpg", "1"], ["tteok", "http://h/7.jpg", "0"]],
                "김치 was searched: its new row is passed over, as a search done is not asked again")
    }
}
