import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// `dsbuild run` end to end on loopback: a fake Commons API serving K-Viscuit images and a fake chat endpoint.
@Suite(.serialized) struct RunPipelineTests {
    static let secret = "sk-e2e-secret-0123456789"

    struct Fixture {
        let tmp: TemporaryDirectory
        let commons: FakeCommonsAPI
        let chat: FakeChatEndpoint
        let chatServer: LoopbackHTTPServer
        let recipe: URL
        let cli: CommandRunner

        init() throws {
            tmp = TemporaryDirectory("dsbuild-run")
            let items = try KViscuitFixture.type1Items().filter {
                FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let unique = items.filter { seen.insert($0.keyword).inserted }
            let chosen = Array(unique.prefix(20))
            var files: [String: [URL]] = [:]
            for (i, item) in chosen.enumerated() {
                var list = [TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)]
                if i % 2 == 0, unique.count > i + 40 {
                    list.append(TestPaths.kViscuitImages.appendingPathComponent(unique[i + 40].imagePath))
                }
                files[item.keyword] = list
            }
            commons = try FakeCommonsAPI(files: files)
            chat = FakeChatEndpoint(responder: PipelineChatResponder.respond)
            chatServer = try chat.serve()
            var csv = "keyword,category\n"
            for item in chosen { csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category.lowercased())\n" }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            recipe = tmp.path("recipe.yaml")
            try """
                name: e2e
                keywords: keywords.csv
                contact: https://example.org/dsbuild-tests
                llm:
                  model: fake-model
                  concurrency: 4
                collect:
                  per_keyword: 3
                  licenses: [cc0, cc-by, cc-by-sa]
                  concurrency: 4
                  allow_hosts: ["127.0.0.1:\(commons.server.port)"]
                  sources:
                    commons:
                      base_url: \(commons.baseURL)
                      thumbnail_width: 1280
                filter:
                  min_short_side: 100
                  aspect_ratio: [0.3, 3.0]
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                  concurrency: 4
                mcq:
                  types: [1, 2]
                  test_fraction: 0.25
                  seed: 7
                  concurrency: 4
                shards:
                  out: shards
                  shard_size: 8
                """.write(to: recipe, atomically: true, encoding: .utf8)
            cli = CommandRunner(environment: ["OPENAI_BASE_URL": chatServer.url("/v1").absoluteString,
                                              "OPENAI_API_KEY": RunPipelineTests.secret])
        }

        func workspace(_ name: String) -> URL { tmp.path(name) }
    }

    static func containsSecret(_ directory: URL) throws -> [String] {
        var hits: [String] = []
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = try? Data(contentsOf: url) else { continue }
            if data.range(of: Data(secret.utf8)) != nil { hits.append(url.path) }
        }
        return hits
    }

    @Test func runBuildsShardsQuestionsAndAReportAndAKilledRunResumesToTheSameResult() throws {
        let f = try Fixture()
        defer { f.commons.stop(); f.chatServer.stop() }

        // Uninterrupted run.
        let started = Date()
        let a = try f.cli.run(["run", f.recipe.path, "--workspace", f.workspace("wsA").path, "--json"])
        let duration = Date().timeIntervalSince(started)
        let summary = try a.json()
        #expect(PipelineFingerprint.succeeded(a.status, summary), "\(a.stderr)")
        let stages = try #require(summary["stages"] as? [[String: Any]])
        #expect(stages.map { $0["stage"] as? String } == ["collect", "filter", "describe", "mcq", "shards", "check"])
        #expect(stages.allSatisfy { ($0["done"] as? Int ?? 0) > 0 }, "\(a.stdout)")
        let status = try CommandRunner().run(["status", "--workspace", f.workspace("wsA").path, "--json"]).json()
        let questions = try #require(status["questions"] as? [String: Any])
        let byType = try #require(questions["by_type"] as? [String: Int])
        #expect((byType["1"] ?? 0) > 0 && (byType["2"] ?? 0) > 0)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: f.workspace("wsA").appendingPathComponent("shards/shards.json"))) as? [String: Any]
        let counts = try #require(index?["counts"] as? [String: Any])
        #expect((counts["text"] as? Int ?? 0) > 0 && (counts["paired"] as? Int ?? 0) > 0)

        let report = try f.cli.run(["report", "--workspace", f.workspace("wsA").path, "--json"])
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOf: f.workspace("wsA").appendingPathComponent("report/index.html"), encoding: .utf8)
        let kept = try Workspace.open(at: f.workspace("wsA")).manifest.read { db in
            try String.fetchAll(db, sql: "SELECT image_sha256 FROM filter_decisions GROUP BY image_sha256, keyword_id HAVING MIN(pass) = 1")
        }
        #expect(!kept.isEmpty)
        for sha in kept { #expect(html.contains("thumbs/\(sha).jpg")) }

        // Killed at a random point, then run again.
        let fraction = Double.random(in: 0.2...0.7)
        print("killing the second run after \(String(format: "%.2f", fraction)) of \(String(format: "%.1f", duration)) s")
        let running = try f.cli.start(["run", f.recipe.path, "--workspace", f.workspace("wsB").path, "--quiet"])
        Thread.sleep(forTimeInterval: duration * fraction)
        running.kill()
        let killed = running.wait()
        #expect(killed.signalled)
        let b = try f.cli.run(["run", f.recipe.path, "--workspace", f.workspace("wsB").path, "--json"])
        #expect(PipelineFingerprint.succeeded(b.status, try b.json()), "\(b.stderr)")

        let fa = try PipelineFingerprint.manifest(f.workspace("wsA"))
        let fb = try PipelineFingerprint.manifest(f.workspace("wsB"))
        #expect(fa.count == fb.count)
        for (x, y) in zip(fa, fb) where x != y {
            Issue.record("manifests differ: \(x.prefix(300)) vs \(y.prefix(300))")
            break
        }
        #expect(try PipelineFingerprint.shards(f.workspace("wsA")) == PipelineFingerprint.shards(f.workspace("wsB")))
        #expect(try Self.containsSecret(f.tmp.url).isEmpty)
        if let keep = ProcessInfo.processInfo.environment["DSBUILD_KEEP_E2E"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: f.tmp.url, to: URL(fileURLWithPath: keep))
        }
    }
}
