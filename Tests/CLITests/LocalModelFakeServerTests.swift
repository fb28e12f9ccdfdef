import _DSBuildTestSupport
import Foundation
import Generate
import GRDB
import Testing

/// The local-model path's failure modes, with a stand-in llama-server (`FakeLlamaServer`, first on PATH) so no real
/// model is needed: the served server is reached directly whatever proxy the environment names, Ctrl-C while it
/// loads, a server that dies mid-stage, garbage replies, the estimate under a local model, eval's no-endpoint line.
@Suite(.serialized) struct LocalModelFakeServerTests {
    func fixture(_ mode: FakeLlamaServer.Mode = .healthy, reply: String = FakeLlamaServer.description,
                 extraRecipe: String = "") throws -> (LocalPipelineFixture, FakeLlamaServer) {
        var fixture = try LocalPipelineFixture(extraRecipe: extraRecipe)
        let fake = try FakeLlamaServer(in: fixture.dir.url, mode: mode, reply: reply)
        fixture.runner.environment["PATH"] = fake.path(fixture.runner.environment)
        try fixture.prepare()
        return (fixture, fake)
    }

    func descriptionRows(_ fixture: LocalPipelineFixture) throws -> [Row] {
        try fixture.manifest { db in try Row.fetchAll(db, sql: "SELECT status, reason, model FROM descriptions") }
    }

    @Test func theLocalServerIsReachedDirectlyWhateverProxyTheEnvironmentNames() throws {
        var (fixture, fake) = try fixture()
        let port = try LoopbackPort.free()
        let proxy = try #require(ConnectionCounter(port: UInt16(port)))
        defer { proxy.stop() }
        for variable in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            fixture.runner.environment[variable] = "http://127.0.0.1:\(port)"
        }
        for variable in ["no_proxy", "NO_PROXY"] { fixture.runner.environment.removeValue(forKey: variable) }
        let result = try fixture.dsbuild(["describe", "--local-model", fake.model.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(proxy.count == 0, "a request to the local server went through the environment's proxy")
        #expect(fake.requests == 2, "each description asked the server itself")
        #expect(try descriptionRows(fixture).map { $0["status"] as String } == ["accepted", "accepted"])
    }

    @Test func ctrlCWhileTheServerLoadsStopsAtOnceWithTheServer() throws {
        let (fixture, fake) = try fixture(.neverHealthy, extraRecipe: "    startup_seconds: 60")
        let command = try fixture.runner.start(["describe", "--workspace", fixture.workspace.path, "--local-model", fake.model.path])
        let deadline = Date().addingTimeInterval(30)
        while fake.pid == nil && Date() < deadline { usleep(100_000) }
        let server = try #require(fake.pid, "the fake server never started")
        usleep(1_000_000)  // into the wait for /health
        let sent = Date()
        kill(command.process.processIdentifier, SIGINT)
        let result = command.wait()
        #expect(result.status == 130, "\(result.stderr)")
        #expect(Date().timeIntervalSince(sent) < 5, "Ctrl-C waited for the startup timeout")
        #expect(LlamaVenv.waitGone(server, seconds: 3), "the server outlived the interrupted start")
    }

    @Test func aServerThatDiesMidStageStopsTheStageWithOneLineAndLeavesItemsPending() throws {
        let (fixture, fake) = try fixture(.exitOnFirstRequest)
        let started = Date()
        let result = try fixture.dsbuild(["describe", "--local-model", fake.model.path])
        #expect(result.status == 2, "\(result.stderr)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("exited with status 3") && errors[0].contains("llama-server.log"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 20, "retries were spent on a dead server")
        #expect(fake.requests <= 2, "requests after the server died: \(fake.requests)")
        #expect(try descriptionRows(fixture).isEmpty, "an item was decided though the server was gone")
    }

    @Test(arguments: [
        // A marker with nothing before it (under a local model a marker after some text ends the reply there instead).
        "<start_of_image> A red dish of cabbage leaves in a bowl with flecks of chilli and spring onion, glossy and wet, in small squares.",
        "[INST] A bowl of red leaves with flecks of chilli and spring onion, glossy and wet, cut into small squares for eating. [/INST]",
    ])
    func chatTemplateTokensAreRejectedWithTheirReasonAfterEveryAttempt(reply: String) throws {
        let (fixture, fake) = try fixture(reply: reply)
        let result = try fixture.dsbuild(["describe", "--local-model", fake.model.path])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try descriptionRows(fixture)
        #expect(rows.count == 2 && rows.allSatisfy { $0["status"] as String == "rejected" && $0["reason"] as String == "control_tokens" },
                "\(rows)")
        #expect(fake.requests == 2 * 3, "each description asked describe.max_attempts (3) times")
        let shards = try fixture.dsbuild(["shards"])
        let records = LocalPipelineFixture.textRecords(in: fixture.workspace.appendingPathComponent("shards/text"))
        #expect(!records.contains { ($0["text"] as? String)?.contains("<|") == true || ($0["text"] as? String)?.contains("<end_of") == true },
                "\(shards.stderr)")
    }

    @Test func underALocalModelAnEndOfTurnMarkerEndsTheReply() throws {
        let reply = FakeLlamaServer.description + "<|im_end|>user\n<|im_start|>Describe what a Kimchi looks like."
        let (fixture, fake) = try fixture(reply: reply)
        #expect(try fixture.dsbuild(["describe", "--local-model", fake.model.path]).status == 0)
        let texts = try fixture.manifest { db in try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE status = 'accepted'") }
        #expect(texts.count == 2 && texts.allSatisfy { $0 == FakeLlamaServer.description }, "\(texts)")
    }

    @Test func estimateUnderALocalModelNamesItUsesItsLimitsCostsNothingAndStartsNoServer() throws {
        let (fixture, fake) = try fixture()
        for arguments in [["estimate", "--local-model", fake.model.path, "--json"],
                          ["describe", "--estimate", "--local-model", fake.model.path, "--json"]] {
            let result = try fixture.dsbuild(arguments)
            #expect(result.status == 0, "\(result.stderr)")
            let estimate = try #require(try result.json()["estimate"] as? [String: Any])
            let rows = try #require(estimate["rows"] as? [[String: Any]])
            let describe = rows.filter { $0["stage"] as? String == "describe" }
            #expect(!describe.isEmpty, "\(rows)")
            for row in rows {
                #expect((row["model"] as? String)?.hasPrefix("fake-model-") == true, "\(row)")
                #expect(row["cost_usd"] as? Double == 0, "\(row)")
            }
            // The local completion limit (llm.local.max_tokens: 96), not the remote default of 600.
            for row in describe {
                let requests = row["requests"] as? Int ?? 0
                #expect(requests > 0 && (row["completion_tokens"] as? Int ?? .max) <= 96 * requests, "\(row)")
            }
        }
        #expect(fake.pid == nil, "the estimate started the server")
    }

    @Test func anotherGGUFWithTheSameFileNameIsAnotherModel() throws {
        let (fixture, fake) = try fixture()
        #expect(try fixture.dsbuild(["describe", "--local-model", fake.model.path]).status == 0)
        #expect(fake.requests == 2)
        // The same file again: nothing to do. A copy elsewhere: the same model, nothing to do either.
        #expect(try fixture.dsbuild(["describe", "--local-model", fake.model.path]).status == 0)
        let copy = fixture.dir.path("copy/fake-model.gguf")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fake.model, to: copy)
        #expect(try fixture.dsbuild(["describe", "--local-model", copy.path]).status == 0)
        #expect(fake.requests == 2, "the same content under another folder was asked again")
        // Another model under the same name: asked again, recorded under its own name.
        let other = fixture.dir.path("other/fake-model.gguf")
        try FileManager.default.createDirectory(at: other.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("GGUF another model".utf8).write(to: other)
        #expect(try fixture.dsbuild(["describe", "--local-model", other.path]).status == 0)
        #expect(fake.requests == 4, "a different GGUF with the same file name was answered from the cache")
        let models = Set(try descriptionRows(fixture).map { $0["model"] as String })
        #expect(models.count == 2 && models.allSatisfy { $0.hasPrefix("fake-model-") }, "\(models)")
    }

    @Test func noServerIsStartedWhenNothingIsLeftToAskAndRunStartsItAfterCollect() throws {
        let (fixture, fake) = try fixture()
        #expect(try fixture.dsbuild(["describe", "--local-model", fake.model.path]).status == 0)
        try FileManager.default.removeItem(at: fake.pidFile)
        let again = try fixture.dsbuild(["describe", "--local-model", fake.model.path])
        #expect(again.status == 0 && again.stdout.contains("0 to do"), "\(again.stdout)\(again.stderr)")
        #expect(fake.pid == nil, "a server was started for a describe with nothing to do")

        // run: the server starts after collect and filter; one that cannot start stops the run at describe, and
        // collect and filter have done their work.
        var broken = try LocalPipelineFixture()
        let dead = try FakeLlamaServer(in: broken.dir.url.appendingPathComponent("dead"), mode: .exitOnFirstRequest)
        try Data("#!/bin/sh\necho 'failed to load model' >&2\nexit 4\n".utf8).write(to: dead.binDirectory.appendingPathComponent("llama-server"))
        broken.runner.environment["PATH"] = dead.path(broken.runner.environment)
        let run = try broken.runner.run(["run", broken.dir.path("recipe.yaml").path, "--workspace", broken.workspace.path,
                                          "--local-model", dead.model.path])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("failed to load model"), "\(run.stderr)")
        let kept = try broken.manifest { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM kept_pairs") ?? 0 }
        #expect(kept == 2, "collect and filter ran before the server was needed")
    }

    @Test func batchUnderALocalModelIsRefusedBeforeAnyServerStarts() throws {
        let (fixture, fake) = try fixture()
        let result = try fixture.dsbuild(["describe", "--batch", "--local-model", fake.model.path])
        #expect(result.status != 0 && result.stderr.contains("Batch API"), "\(result.stderr)")
        #expect(fake.pid == nil, "a server was started for a command refused")
    }

    @Test func anEmptyLocalModelPathAndAnUnusedOneAreSaid() throws {
        let (fixture, fake) = try fixture()
        let empty = try fixture.dsbuild(["describe", "--local-model", ""])
        let errors = empty.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(empty.status == 2 && errors.count == 1 && errors[0].contains("--local-model: the path is empty"), "\(empty.stderr)")
        let missing = try fixture.dsbuild(["filter", "--local-model", fixture.dir.path("nope.gguf").path])
        #expect(missing.status == 2 && missing.stderr.contains("nope.gguf does not exist"), "\(missing.stderr)")
        let unused = try fixture.dsbuild(["filter", "--local-model", fake.model.path])
        #expect(unused.status == 0 && unused.stderr.contains("--local-model is not used: no judge is on"), "\(unused.stderr)")
        #expect(fake.pid == nil)
    }

    @Test func ignoredEndpointVariablesAreNotedAndMCQPrintsItsCountsAsWords() throws {
        var (fixture, fake) = try fixture()
        fixture.runner.environment["OPENAI_API_KEY"] = "sk-test-not-a-key"
        let describe = try fixture.dsbuild(["describe", "--local-model", fake.model.path])
        #expect(describe.status == 0, "\(describe.stderr)")
        #expect(describe.stderr.split(separator: "\n").filter { $0.contains("llm.local is set, so OPENAI_API_KEY is not used") }.count == 1,
                "\(describe.stderr)")
        #expect(!describe.stderr.contains("sk-test-not-a-key") && !describe.stdout.contains("sk-test-not-a-key"))
        let mcq = try fixture.dsbuild(["mcq", "--local-model", fake.model.path])
        #expect(mcq.status == 0, "\(mcq.stderr)")
        let line = try #require(mcq.stdout.split(separator: "\n").first { $0.hasPrefix("type 2:") }, "\(mcq.stdout)")
        #expect(!line.contains("[") && !line.contains("\"") && line.contains("to do"), "a raw dictionary: \(line)")
    }

    @Test func evalWithoutAnEndpointStopsWithTheStandardLineAndExitTwo() throws {
        let fixture = try LocalPipelineFixture()
        try fixture.prepare()
        let lines = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"question_type\": 2") }.prefix(2)
        let file = fixture.dir.path("questions.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let result = try fixture.dsbuild(["eval", "--model", "m", "--questions", file.path, "--questions-format", "k-viscuit",
                                          "--condition", "no-image"])
        #expect(result.status == 2, "\(result.stderr)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("no model endpoint") && errors[0].contains("llm.local")
                && errors[0].contains("--checkpoint"), "\(result.stderr)")
        #expect(!result.stderr.contains("Usage:"), "\(result.stderr)")
    }
}

/// `dsbuild models install` with a stand-in `python3` first on PATH (venv, pip and the GGUF's assembly faked), so
/// interruption and repair are tested without the registry.
@Suite(.serialized) struct ModelsInstallTests {
    static let fakePython = """
        #!/bin/bash
        if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0; fi
        if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
          if [ -n "$FAKE_PIP_PIDFILE" ]; then echo $$ > "$FAKE_PIP_PIDFILE"; exec sleep 300; fi
          exit 0
        fi
        if [ "$1" = "-c" ]; then case "$2" in *assemble*) printf 'GGUF fake model bytes' > "$3";; esac; exit 0; fi
        exit 0
        """

    func runner(_ dir: TemporaryDirectory) throws -> CommandRunner {
        let bin = dir.path("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try Data(Self.fakePython.utf8).write(to: bin.appendingPathComponent("python3"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("python3").path)
        var runner = CommandRunner(environment: ["DSBUILD_MODELS_DIR": dir.path("models").path])
        runner.environment["PATH"] = bin.path + ":" + (runner.environment["PATH"] ?? "/usr/bin:/bin")
        for variable in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "DSBUILD_LLAMA_VENV"] { runner.environment.removeValue(forKey: variable) }
        return runner
    }

    @Test func ctrlCStopsTheInstallAndItsChildrenAndRecordsNothing() throws {
        let dir = TemporaryDirectory("models-int")
        var runner = try runner(dir)
        let pidFile = dir.path("pip.pid")
        runner.environment["FAKE_PIP_PIDFILE"] = pidFile.path
        let command = try runner.start(["models", "install"])
        let deadline = Date().addingTimeInterval(30)
        var pip: Int32?
        while pip == nil && Date() < deadline {
            pip = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            usleep(100_000)
        }
        let child = try #require(pip, "pip never started")
        let sent = Date()
        kill(command.process.processIdentifier, SIGINT)
        let result = command.wait()
        #expect(result.status == 130, "\(result.stderr)")
        #expect(Date().timeIntervalSince(sent) < 10)
        #expect(LlamaVenv.waitGone(child, seconds: 3), "pip outlived an interrupted install")
        let record = dir.path("models/\(KnownModel.all[0].name)/model.json")
        #expect(!FileManager.default.fileExists(atPath: record.path), "an interrupted install was recorded installed")
    }

    @Test func aDamagedModelIsListedDamagedRefusedAndRepairedByInstall() throws {
        let dir = TemporaryDirectory("models-dmg")
        let runner = try runner(dir)
        let first = try runner.run(["models", "install", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let installed = try first.json()
        let file = try #require(installed["file"] as? String)
        #expect(installed["bytes"] as? Int == 21 && (installed["sha256"] as? String)?.count == 64, "\(installed)")
        // Cut the file, as an interrupted copy does.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: 4)
        try handle.close()
        let list = try runner.run(["models", "list"])
        #expect(list.stdout.contains("DAMAGED") && list.stdout.contains("4 bytes, 21 installed"), "\(list.stdout)")
        let listed = try runner.run(["models", "list", "--json"]).json()
        #expect(((listed["models"] as? [[String: Any]])?.first?["damaged"] as? String)?.contains("4 bytes") == true, "\(listed)")
        let ws = dir.path("ws")
        #expect(try runner.run(["init", ws.path, "--quiet"]).status == 0)
        let refused = try runner.run(["describe", "--workspace", ws.path, "--local-model", KnownModel.all[0].name])
        #expect(refused.status == 2 && refused.stderr.contains("damaged") && refused.stderr.contains("models install"), "\(refused.stderr)")
        let repaired = try runner.run(["models", "install"])
        #expect(repaired.status == 0, "\(repaired.stderr)")
        #expect(((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue == 21, "not repaired")
        #expect(!(try runner.run(["models", "list"])).stdout.contains("DAMAGED"))
    }

    @Test func aCacheThatCannotBeWrittenIsOneLineInWords() throws {
        let dir = TemporaryDirectory("models-rofs")
        var runner = try runner(dir)
        try Data("a file, not a folder".utf8).write(to: dir.path("file"))
        runner.environment["DSBUILD_MODELS_DIR"] = dir.path("file/models").path
        let result = try runner.run(["models", "install"])
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(result.status == 1 && errors.count == 1 && errors[0].contains("Not a directory"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("error 512"), "\(result.stderr)")
    }

    @Test func aCorruptRecordIsNamedAndEscapeCodesAreNotPrinted() throws {
        let dir = TemporaryDirectory("models-bad")
        let runner = try runner(dir)
        let models = dir.path("models")
        try FileManager.default.createDirectory(at: models.appendingPathComponent("broken"), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: models.appendingPathComponent("broken/model.json"))
        let evil = models.appendingPathComponent("evil")
        try FileManager.default.createDirectory(at: evil, withIntermediateDirectories: true)
        try Data("GGUF".utf8).write(to: evil.appendingPathComponent("m.gguf"))
        let record: [String: Any] = ["name": "evil\u{1B}[31mred", "file": evil.appendingPathComponent("m.gguf").path, "capabilities": ["text"],
                                     "packages": [String](), "bytes": 4, "installed_at": "2026-01-01T00:00:00Z"]
        try JSONSerialization.data(withJSONObject: record).write(to: evil.appendingPathComponent("model.json"))
        let list = try runner.run(["models", "list"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("broken") && list.stdout.contains("corrupt") && !list.stdout.contains("none —"), "\(list.stdout)")
        #expect(list.stdout.contains("evil[31mred") && !list.stdout.contains("\u{1B}"), "an escape code reached the terminal")
    }
}
