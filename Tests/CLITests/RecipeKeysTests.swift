import Dataset
import Foundation
import Synchronization
import Testing
import _DSBuildTestSupport

/// Issue 16, "every key does what it says or is gone", through the commands: a recipe's input paths resolve
/// against its own folder (also after `init` stored it in the workspace), its top-level `contact` is the
/// User-Agent's, a source's own `per_keyword` caps that source, `llm.json_mode` is the first format asked for,
/// `mcq.style` is the export's format, every `eval.conditions` entry is scored, and keys nothing reads are refused.
@Suite(.serialized) struct RecipeKeysTests {
    let tmp = TemporaryDirectory("dsbuild-recipe-keys")
    let cli = CommandRunner()

    @Test func inputPathsResolveAgainstTheRecipesFolderAndItsContactIsTheUserAgents() throws {
        let files = try Hardening.images(count: 3, maxBytes: 400_000)
        let agents = Mutex<[String]>([])
        var bodies: [String: Data] = [:]
        for file in files { bodies["/img/\(file.lastPathComponent)"] = try Data(contentsOf: file) }
        let served = bodies
        let server = try LoopbackHTTPServer { request in
            agents.withLock { $0.append(request.header("User-Agent") ?? "") }
            guard let body = served[request.path] else { return .status(404) }
            return .ok(body, contentType: "image/jpeg")
        }
        defer { server.stop() }
        // The recipe, its keyword file and its URL list in one folder; the workspace and the current directory elsewhere.
        let folder = tmp.path("project/recipes")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "hanbok\r\n".write(to: folder.appendingPathComponent("keywords.txt"), atomically: true, encoding: .utf8)
        try Hardening.urlList(files, server: server, keyword: "hanbok", at: folder.appendingPathComponent("list.csv"))
        try """
            name: paths
            keywords: keywords.txt
            contact: mailto:recipe-contact@example.org
            collect:
              allow_hosts: ["127.0.0.1:\(server.port)"]
              sources:
                urls:
                  file: list.csv
                  keyword_column: keyword
            """.write(to: folder.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
        let elsewhere = tmp.path("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let ws = tmp.path("ws")
        let created = try cli.run(["init", ws.path, "--recipe", "../project/recipes/recipe.yaml", "--json"], currentDirectory: elsewhere)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try created.json()["keywords"] as? Int == 1)
        // collect runs from yet another folder: the list is found beside the stored recipe's original.
        let collected = try cli.run(["collect", "--workspace", ws.path, "--json", "--quiet"], currentDirectory: tmp.url)
        #expect(collected.status == 0, "\(collected.stderr)")
        #expect(try Hardening.rows(ws, "SELECT COUNT(*) FROM downloads WHERE status = 'ok'") == [["\(files.count)"]])
        let seen = agents.withLock { $0 }
        #expect(!seen.isEmpty && seen.allSatisfy { $0.hasPrefix("dsbuild/") && $0.contains("(+mailto:recipe-contact@example.org)") }, "\(seen)")
        // --contact still wins over the recipe.
        let other = tmp.path("ws2")
        #expect(try cli.run(["init", other.path, "--recipe", folder.appendingPathComponent("recipe.yaml").path]).status == 0)
        agents.withLock { $0.removeAll() }
        let overridden = try cli.run(["collect", "--workspace", other.path, "--contact", "https://override.example.org", "--quiet"])
        #expect(overridden.status == 0, "\(overridden.stderr)")
        #expect(agents.withLock { $0 }.allSatisfy { $0.contains("(+https://override.example.org)") })
    }

    /// Every shipped example is a valid recipe whose input files are found beside it; the URL-list example's
    /// list is read by collect (search only: nothing is fetched) from a workspace elsewhere.
    @Test func theShippedExamplesLoadAndFindTheirInputs() throws {
        let examples = TestPaths.repositoryRoot.appendingPathComponent("examples")
        let recipes = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(recipes.count >= 3)
        for name in recipes {
            let ws = tmp.path("example-\(name)")
            let created = try cli.run(["init", ws.path, "--recipe", examples.appendingPathComponent(name).path, "--json"])
            #expect(created.status == 0, "\(name): \(created.stderr)")
            if name == "url-list.yaml" {
                let collected = try cli.run(["collect", "--workspace", ws.path, "--sources", "urls", "--search-only", "--json", "--quiet"])
                #expect(collected.status == 0, "\(name): \(collected.stderr)")
                #expect(Int(try Hardening.rows(ws, "SELECT COUNT(*) FROM candidates")[0][0])! > 0, "\(name): the list beside the recipe was read")
            } else {
                #expect(try created.json()["keywords"] as? Int ?? 0 > 0, "\(name): its keyword file beside it was read")
            }
        }
    }

    @Test func aSourcesOwnPerKeywordCapsThatSourceAndTheOptionReplacesIt() throws {
        let files = try Hardening.images(count: 5, maxBytes: 300_000)
        let commons = try FakeCommonsAPI(files: ["kimchi": files])
        defer { commons.stop() }
        try "kimchi\n".write(to: tmp.path("k.txt"), atomically: true, encoding: .utf8)
        try """
            keywords: k.txt
            collect:
              per_keyword: 50
              allow_hosts: ["127.0.0.1:\(commons.server.port)"]
              sources:
                commons:
                  base_url: \(commons.baseURL)
                  per_keyword: 2
            """.write(to: tmp.path("r.yaml"), atomically: true, encoding: .utf8)
        for (name, extra, expected) in [("capped", [String](), 2), ("option", ["--per-keyword", "4"], 4)] {
            let ws = tmp.path(name)
            #expect(try cli.run(["init", ws.path, "--recipe", tmp.path("r.yaml").path]).status == 0)
            let r = try cli.run(["collect", "--workspace", ws.path, "--search-only", "--licenses", "any", "--quiet"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try Hardening.rows(ws, "SELECT COUNT(*) FROM candidates") == [["\(expected)"]], "\(name)")
        }
    }

    @Test func keysNothingReadsAreRefusedWithFileLineAndKey() throws {
        for (key, yaml) in [("shards.mixture", "shards:\n  mixture: paired\n"), ("train.nodes", "train:\n  nodes: 2\n"),
                            ("filter.rules", "filter:\n  rules: [size]\n"), ("collect.keywords", "collect:\n  keywords: k.txt\n"),
                            ("filter.duplicates.across_keywords", "filter:\n  duplicates:\n    across_keywords: true\n"),
                            ("collect.sources.commons.concurrency", "collect:\n  sources:\n    commons:\n      concurrency: 2\n")] {
            let file = tmp.path("dead-\(key).yaml")
            try ("name: dead\n" + yaml).write(to: file, atomically: true, encoding: .utf8)
            let r = try cli.run(["init", tmp.path("dead-ws-\(key)").path, "--recipe", file.path])
            #expect(r.status != 0, "\(key) accepted")
            #expect(r.stderr.contains(file.lastPathComponent) && r.stderr.contains(String(key.split(separator: ".").last!)), "\(key): \(r.stderr)")
        }
    }

    /// Through the commands on real images (directory source, loopback chat): `llm.json_mode: json_object` is
    /// the format every structured request asks for, `mcq.style: butterfly` the format `mcq --export` writes
    /// without `--format`, and `eval` scores each of `eval.conditions` and stores each.
    @Test func jsonModeStyleAndEveryEvalConditionDoWhatTheySay() throws {
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respond)
        let server = try chat.serve()
        defer { server.stop() }
        let env = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-keys-test"])
        let photos = try PhotoFolder(root: tmp.path("kv"))
        let items = try KViscuitFixture.type1Items().filter {
            !$0.keyword.contains("/") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
        }
        var keywords: [String] = []
        var spare = items.dropFirst(8).makeIterator()
        for item in items.prefix(8) where !keywords.contains(item.keyword) {
            keywords.append(item.keyword)
            try photos.add(item, keyword: item.keyword)
            if let extra = spare.next() { try photos.add(extra, keyword: item.keyword) }
        }
        try (keywords.joined(separator: "\n") + "\n").write(to: tmp.path("kw.txt"), atomically: true, encoding: .utf8)
        try """
            name: keys
            keywords: kw.txt
            llm:
              model: fake-model
              concurrency: 4
              json_mode: json_object
            filter:
              min_short_side: 100
              aspect_ratio: [0.3, 3.0]
            describe:
              aspects: [visual]
              modes: [text-only]
              languages: [en]
            mcq:
              types: [1, 2]
              seed: 3
              style: butterfly
            eval:
              model: fake-model
              conditions: [with-image, no-image]
            """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
        let ws = tmp.path("qws")
        for arguments in [["init", ws.path, "--recipe", tmp.path("recipe.yaml").path, "--quiet"],
                          ["collect", "--workspace", ws.path, "--sources", "directory", "--source-file", photos.root.path, "--quiet"],
                          ["filter", "--workspace", ws.path, "--quiet"], ["describe", "--workspace", ws.path, "--quiet"],
                          ["mcq", "--workspace", ws.path, "--quiet"]] {
            let r = try env.run(arguments)
            try #require(r.status == 0, "\(arguments[0]): \(r.stderr)")
        }
        // json_mode: the structured requests (Type 2 questions) asked for json_object from the first one on.
        let formats = chat.bodies.compactMap { ($0["response_format"] as? [String: Any])?["type"] as? String }
        #expect(!formats.isEmpty && formats.allSatisfy { $0 == "json_object" }, "\(Set(formats))")

        // style: the export's format without --format.
        let out = tmp.path("export/questions.jsonl")
        let exported = try env.run(["mcq", "--workspace", ws.path, "--export", out.path, "--quiet"])
        #expect(exported.status == 0, "\(exported.stderr)")
        // BUTTERFLY style: the options in one "A) … B) …" string, the answer a letter, the type a string.
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((object["options"] as? String)?.hasPrefix("A) ") == true, "\(object)")
            #expect(["A", "B", "C", "D"].contains(object["answer"] as? String ?? ""), "\(object)")
            #expect(["1", "2"].contains(object["question_type"] as? String ?? ""), "\(object)")
        }

        // eval.conditions: both scored, both stored.
        let evaluated = try env.run(["eval", "--workspace", ws.path, "--json"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let reports = try #require(try evaluated.json()["conditions"] as? [[String: Any]])
        #expect(reports.compactMap { $0["condition"] as? String } == ["with-image", "no-image"])
        #expect(reports.allSatisfy { (($0["overall"] as? [String: Any])?["n"] as? Int ?? 0) > 0 })
        #expect(try Hardening.rows(ws, "SELECT condition FROM eval_results ORDER BY id") == [["with-image"], ["no-image"]])
        // Each condition is a step through the runner: its row records the eval: settings applied, its result names it.
        let runs = try Hardening.rows(ws, "SELECT id, command, status, settings FROM runs WHERE command LIKE 'eval%' ORDER BY id")
        #expect(runs.map { $0[1] } == ["eval.with-image", "eval.no-image"])
        for run in runs {
            #expect(run[2] == "ok", "\(run[1]): \(run[2])")
            #expect(run[3].contains("\"conditions\":[\"with-image\",\"no-image\"]"), "\(run[3])")
        }
        #expect(try Hardening.rows(ws, "SELECT run_id FROM eval_results ORDER BY id") == runs.map { [$0[0]] })
    }
}
