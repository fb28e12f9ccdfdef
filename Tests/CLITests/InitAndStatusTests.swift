import Foundation
import Testing
import _DSBuildTestSupport

@Suite struct InitAndStatusTests {
    let cli = CommandRunner()

    @Test func initWithKeywordsThenStatusReportsTheKeywordCount() throws {
        let tmp = TemporaryDirectory()
        let items = try KViscuitFixture.type1Items()
        var csv = "keyword,category\n"
        for item in items { csv += "\"\(item.keyword)\",\(item.category)\n" }
        try csv.write(to: tmp.path("kv.csv"), atomically: true, encoding: .utf8)
        let ws = tmp.path("ws").path
        let initResult = try cli.run(["init", ws, "--keywords", tmp.path("kv.csv").path, "--json"])
        #expect(initResult.status == 0, "\(initResult.stderr)")
        let unique = Set(items.map(\.keyword)).count
        #expect(try initResult.json()["keywords"] as? Int == unique)

        let status = try cli.run(["status", "--workspace", ws, "--json"])
        #expect(status.status == 0)
        let json = try status.json()
        #expect(json["keywords"] as? Int == unique)
        #expect(json["candidates"] as? Int == 0)
        let downloads = try #require(json["downloads"] as? [String: Any])
        #expect(downloads["ok"] as? Int == 0)
        #expect(downloads["failed"] as? [String: Int] == [:])
        let images = try #require(json["images"] as? [String: Any])
        #expect(images["kept"] as? Int == 0)
        let questions = try #require(json["questions"] as? [String: Any])
        #expect(questions["by_type"] as? [String: Int] == ["1": 0, "2": 0])
        let llm = try #require(json["llm"] as? [String: Int])
        #expect(llm == ["requests": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0])

        let text = try cli.run(["status", "--workspace", ws])
        #expect(text.stdout.contains("keywords      \(unique)"))
    }

    @Test func badKeywordLinesAreReportedAndTheRestIsStoredWithNonZeroExit() throws {
        let tmp = TemporaryDirectory()
        try "keyword,category\nGat,clothing\n\"broken,x\nHanbok,clothing\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
        let result = try cli.run(["init", tmp.path("ws").path, "--keywords", tmp.path("k.csv").path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("k.csv:3"))
        let status = try cli.run(["status", "--workspace", tmp.path("ws").path, "--json"])
        #expect(try status.json()["keywords"] as? Int == 1)
    }

    @Test func workspaceComesFromTheEnvironmentVariable() throws {
        let tmp = TemporaryDirectory()
        _ = try cli.run(["init", tmp.path("ws").path])
        let env = CommandRunner(environment: ["DSBUILD_WORKSPACE": tmp.path("ws").path])
        let result = try env.run(["status", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func statusOnANonWorkspaceIsAClearError() throws {
        let tmp = TemporaryDirectory()
        let result = try cli.run(["status", "--workspace", tmp.url.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("not a dsbuild workspace"))
        #expect(!FileManager.default.fileExists(atPath: tmp.path("dsbuild.sqlite").path))
    }

    @Test func aRecipeIsValidatedAndStored() throws {
        let tmp = TemporaryDirectory()
        try "keyword\nGat\n".write(to: tmp.path("k.txt"), atomically: true, encoding: .utf8)
        try "keywords: k.txt\ncollect:\n  per_keyword: 5\n".write(to: tmp.path("r.yaml"), atomically: true, encoding: .utf8)
        let ok = try cli.run(["init", tmp.path("ws").path, "--recipe", tmp.path("r.yaml").path, "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(FileManager.default.fileExists(atPath: tmp.path("ws/recipe.yaml").path))
        #expect(try ok.json()["keywords"] as? Int == 2) // "keyword" line and "Gat": a TXT file has no header

        try "collect:\n  per_keyword: 5\n  bogus: 1\n".write(to: tmp.path("bad.yaml"), atomically: true, encoding: .utf8)
        let bad = try cli.run(["init", tmp.path("ws2").path, "--recipe", tmp.path("bad.yaml").path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("bad.yaml:3"))
        #expect(bad.stderr.contains("collect.bogus"))
    }

    @Test func everyCommandHasHelp() throws {
        for command in ["init", "collect", "filter", "describe", "mcq", "shards", "publish", "train", "eval", "status", "report", "run"] {
            let result = try cli.run([command, "--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("USAGE"), "\(command)")
        }
    }
}
