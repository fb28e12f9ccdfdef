@testable import Collect
import Dataset
import Foundation
import GRDB
import Logging
import Testing
import _DSBuildTestSupport

@Suite struct ListSourceTests {
    @Test func csvURLListKeepsCaptionAndExtraColumns() async throws {
        let dir = TemporaryDirectory()
        let file = dir.path("list.csv")
        try """
            url,caption,kw,pwatermark,punsafe,WIDTH,HEIGHT
            http://h/1.jpg,"A jar, of kimchi",kimchi,0.1,0.0,640,480
            http://h/2.jpg,Bibimbap,bibimbap,0.9,0.2,800.0,600.0
            ,no url,kimchi,,,,
            http://h/3.jpg,"broken "quote",kimchi,,,,
            """.write(to: file, atomically: true, encoding: .utf8)
        let source = try URLListSource(file: file, columns: .init(keyword: "kw"))
        let list = try source.whole()
        #expect(list.keywords == ["kimchi", "bibimbap"])
        #expect(list.problems == ["list.csv:4: empty `url`",
                                  "list.csv:5: unexpected text after a closing quote"], "\(list.problems)")
        let found = try await source.candidates(for: "kimchi", keyword: "kimchi", limit: 1, context: sourceContext(FakeFetcher { _ in FakeFetcher.json([:]) }))
        let first = try #require(found.first)
        #expect(found.count == 1)
        #expect(first.imageURL == "http://h/1.jpg")
        #expect(first.description == "A jar, of kimchi")
        #expect(first.extra["pwatermark"] == "0.1")
        #expect(first.extra["punsafe"] == "0.0")
        #expect(first.declaredWidth == 640 && first.declaredHeight == 480)
    }

    @Test func jsonlAndTSVListsWithAFixedKeyword() throws {
        let dir = TemporaryDirectory()
        try "{\"url\": \"http://h/a.jpg\", \"caption\": \"a\", \"similarity\": 0.31}\nnot json\n".write(to: dir.path("l.jsonl"), atomically: true, encoding: .utf8)
        let jsonl = try URLListSource(file: dir.path("l.jsonl"), columns: .init(fixedKeyword: "things")).whole()
        #expect(jsonl.keywords == ["things"])
        #expect(jsonl.rows["things"]?.first?.extra["similarity"] == "0.31")
        #expect(jsonl.problems == ["l.jsonl:2: not a JSON object"])
        try "URL\tTEXT\nhttp://h/b.jpg\tb\n".write(to: dir.path("l.tsv"), atomically: true, encoding: .utf8)
        let tsv = try URLListSource(file: dir.path("l.tsv"), columns: .init(url: "URL", caption: "TEXT")).whole()
        #expect(tsv.rows["urls"]?.first?.description == "b")
        #expect(throws: CollectError.self) { try URLListSource(file: dir.path("l.tsv")).whole() }
    }

    /// The directory source end to end: keywords from sub-folders, files copied into the store, probed, resumable.
    @Test func directorySourceCopiesImagesIntoTheStore() async throws {
        let dir = TemporaryDirectory()
        let input = dir.path("input")
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.kViscuitImages.path).sorted().prefix(6)
        for (index, name) in names.enumerated() {
            let folder = input.appendingPathComponent(index < 4 ? "kimchi" : "hanbok")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: TestPaths.kViscuitImages.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try Data("<html>not an image</html>".utf8).write(to: input.appendingPathComponent("hanbok/notes.jpg"))
        let workspace = try Workspace.create(at: dir.path("ws"))
        var settings = CollectSettings()
        settings.sources = ["directory"]
        settings[DirectorySource.self].path = input.path
        let collector = Collector(workspace: workspace, settings: settings, logger: Logger(label: "test"))
        let summary = try await collector.run(runner: .quiet(workspace))
        #expect(summary.keywordsAdded == 2)
        #expect(summary.download?.pending == 7)
        #expect(summary.download?.counts["not_an_image"] == 1)
        #expect(summary.download?.counts["ok"] == 6)
        let keywordsWithImages = try workspace.manifest.read { db in
            try String.fetchAll(db, sql: """
                SELECT k.text FROM keywords k JOIN candidates c ON c.keyword_id = k.id JOIN downloads d ON d.candidate_id = c.id
                WHERE d.status = 'ok' GROUP BY k.text ORDER BY k.text
                """)
        }
        #expect(keywordsWithImages == ["hanbok", "kimchi"])
        let again = try await collector.run(runner: .quiet(workspace))
        #expect(again.search.pending == 0)
        #expect(again.download?.pending == 0)
    }
}
