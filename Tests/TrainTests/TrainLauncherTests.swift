import Dataset
import Foundation
import GRDB
import Synchronization
import Testing
import _DSBuildTestSupport
@testable import Train

@Suite("train launcher")
struct TrainLauncherTests {
    /// A fixture workspace with shards, and a fake trainer: a shell script standing in for python that prints
    /// `stdout`, prints `stderr` on stderr, copies its config beside itself and exits with `status`.
    struct Setup {
        let fixture: FixtureWorkspace
        let shards: URL
        let fake: URL
        let configCopy: URL

        init(stdout: String, stderr: String = "", status: Int32 = 0) async throws {
            fixture = try FixtureWorkspace(images: 2, testEvery: 0)
            (shards, _) = try await fixture.writeShards()
            fake = fixture.dir.path("fake-python")
            configCopy = fixture.dir.path("config-seen.json")
            let script = """
                #!/bin/bash
                # argv: train.py --config CONFIG
                cp "$3" '\(configCopy.path)'
                echo "$@" > '\(fixture.dir.path("argv").path)'
                cat <<'DSBUILD_EOF'
                \(stdout)
                DSBUILD_EOF
                cat >&2 <<'DSBUILD_EOF'
                \(stderr)
                DSBUILD_EOF
                exit \(status)
                """
            try script.write(to: fake, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        }

        func launcher(mode: TrainMode = .textOnly, gpus: Int = 1) -> TrainLauncher {
            var settings = TrainSettings(shards: shards, mode: mode, model: "/models/tiny", out: fixture.dir.path("run"),
                                         trainerDirectory: fixture.dir.url)
            settings.python = fake.path
            settings.maxSteps = 3
            settings.gpus = gpus
            settings.extraJSON = #"{"lr": 0.001, "lora": {"enabled": true, "r": 4}}"#
            return TrainLauncher(workspace: fixture.workspace, settings: settings)
        }

        func row() throws -> Row {
            try fixture.workspace.manifest.read { db in try Row.fetchOne(db, sql: "SELECT * FROM train_runs ORDER BY id DESC LIMIT 1")! }
        }
    }

    static let goodRun = """
        {"event": "start", "total_steps": 3, "mode": "text-only"}
        some stray print that is not JSON
        {"event": "step", "step": 1, "loss": 2.5, "lr": 0.001, "tokens_per_s": 100.0, "samples_per_s": 2.0, "memory_bytes": 1000, "pixels": 0}
        {"event": "step", "step": 2, "loss": 2.0, "lr": 0.001, "tokens_per_s": 110.0, "samples_per_s": 2.0, "memory_bytes": 3000, "pixels": 0}
        {"event": "checkpoint", "step": 2, "path": "/runs/x/checkpoint-2"}
        {"event": "step", "step": 3, "loss": 1.5, "lr": 0.001, "tokens_per_s": 120.0, "samples_per_s": 2.0, "memory_bytes": 2000, "pixels": 0}
        {"event": "end", "steps": 3, "first_loss": 2.5, "final_loss": 1.5, "wall_seconds": 4.25, "peak_memory_bytes": 4096, "checkpoint": "/runs/x/final", "mode": "text-only", "tokens": 300, "samples": 6}
        """

    @Test func jsonLinesAreParsedAndTheRunIsRecorded() async throws {
        let setup = try await Setup(stdout: Self.goodRun)
        let events = Mutex<[TrainerEvent]>([])
        var launcher = setup.launcher()
        launcher.onEvent = { e in events.withLock { $0.append(e) } }
        let outcome = try await launcher.run()
        #expect(outcome.status == "finished")
        #expect(outcome.steps == 3)
        #expect(outcome.firstLoss == 2.5 && outcome.finalLoss == 1.5)
        #expect(outcome.wallSeconds == 4.25)
        #expect(outcome.peakMemoryBytes == 4096)
        #expect(outcome.checkpoint == "/runs/x/final")
        let json = outcome.json
        for key in ["steps", "first_loss", "final_loss", "wall_seconds", "peak_memory_bytes", "checkpoint", "mode"] { #expect(json[key] != nil) }
        #expect(json["mode"] as? String == "text-only")
        let seen = events.withLock { $0 }
        #expect(seen.filter { if case .step = $0 { true } else { false } }.count == 3)
        #expect(seen.contains(.other("some stray print that is not JSON")))

        let row = try setup.row()
        #expect(row["status"] as String == "finished")
        #expect(row["steps"] as Int == 3)
        #expect(row["final_loss"] as Double == 1.5)
        #expect(row["peak_memory_bytes"] as Int == 4096)
        #expect(row["checkpoint"] as String == "/runs/x/final")
        let index = try ShardIndex.load(setup.shards)
        #expect(row["fingerprint"] as String == index.fingerprint)
        let shardList = try #require(JSONSerialization.jsonObject(with: Data((row["shards"] as String).utf8)) as? [[String: Any]])
        #expect(shardList.count == index.text.count + index.paired.count)

        // The config the trainer got: the settings plus the recipe's extra keys.
        let config = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: setup.configCopy)) as? [String: Any])
        #expect(config["mode"] as? String == "text-only")
        #expect(config["max_steps"] as? Int == 3)
        #expect(config["model"] as? String == "/models/tiny")
        #expect(config["shards"] as? String == setup.shards.standardizedFileURL.path)
        #expect(config["lr"] as? Double == 0.001)
        #expect((config["lora"] as? [String: Any])?["r"] as? Int == 4)
    }

    @Test func aFailingTrainerIsReportedByItsErrorLine() async throws {
        let setup = try await Setup(stdout: """
            {"event": "start", "total_steps": 3}
            {"event": "step", "step": 1, "loss": 2.5}
            {"event": "error", "message": "CUDA out of memory: lower batch_size"}
            """, stderr: "Traceback (most recent call last):\n  File \"train.py\", line 1\nRuntimeError: CUDA out of memory", status: 1)
        do {
            _ = try await setup.launcher().run()
            Issue.record("expected a failure")
        } catch let error as TrainError {
            #expect(error.code == .trainerFailed)
            #expect(error.message.contains("CUDA out of memory: lower batch_size"))
            #expect(!error.message.contains("Traceback"))
        }
        let row = try setup.row()
        #expect(row["status"] as String == "failed")
        #expect(row["error"] as String == "CUDA out of memory: lower batch_size")
        #expect(row["steps"] as Int == 1)
    }

    @Test func aTracebackWithoutAnErrorEventIsReportedByItsLastLine() async throws {
        let setup = try await Setup(stdout: "", stderr: """
            Traceback (most recent call last):
              File "train.py", line 10, in <module>
                main()
            ValueError: shards folder has no paired samples
            """, status: 1)
        await #expect(throws: TrainError.self) { _ = try await setup.launcher().run() }
        let row = try setup.row()
        #expect(row["error"] as String == "ValueError: shards folder has no paired samples")
    }

    @Test func exitZeroWithoutAnEndEventIsAFailure() async throws {
        let setup = try await Setup(stdout: #"{"event": "step", "step": 1, "loss": 1.0}"#)
        await #expect(throws: TrainError.self) { _ = try await setup.launcher().run() }
        #expect(try setup.row()["status"] as String == "failed")
    }

    @Test func corruptShardsAreRefusedBeforeLaunch() async throws {
        let setup = try await Setup(stdout: Self.goodRun)
        let index = try ShardIndex.load(setup.shards)
        let file = setup.shards.appendingPathComponent(index.text[0].file)
        var data = try Data(contentsOf: file)
        data[10] ^= 0x20
        try data.write(to: file)
        do {
            _ = try await setup.launcher().run()
            Issue.record("expected invalid shards")
        } catch let error as TrainError {
            #expect(error.code == .invalidShards)
            #expect(error.message.contains("sha256"))
        }
        #expect(!FileManager.default.fileExists(atPath: setup.configCopy.path))  // never launched
        #expect(try setup.fixture.workspace.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM train_runs") } == 0)
    }

    @Test func modesNeedTheirData() throws {
        let textOnly = ShardIndex(root: URL(fileURLWithPath: "/"), fingerprint: "", text: [.init(file: "t", samples: 3, bytes: 1, sha256: "")],
                                  paired: [], byKind: ["description": 3])
        #expect(TrainMode.textOnly.missingData(in: textOnly) == nil)
        #expect(TrainMode.paired.missingData(in: textOnly) != nil)
        #expect(TrainMode.hybrid(0.5).missingData(in: textOnly) != nil)
        #expect(TrainMode.hybrid(0).missingData(in: textOnly) == nil)
        #expect(TrainMode.vift.missingData(in: textOnly) != nil)
        #expect(TrainMode("hybrid:0.25") == .hybrid(0.25))
        #expect(TrainMode("hybrid:2") == nil)
        #expect(TrainMode("pixels") == nil)
    }

    @Test func moreThanOneGPULaunchesTorchrun() {
        var settings = TrainSettings(shards: URL(fileURLWithPath: "/s"), mode: .paired, model: "m", out: URL(fileURLWithPath: "/o"),
                                     trainerDirectory: URL(fileURLWithPath: "/t"))
        settings.python = "/venv/bin/python"
        #expect(settings.commandLine(configPath: "/o/c.json") == ["/venv/bin/python", "/t/train.py", "--config", "/o/c.json"])
        settings.gpus = 4
        #expect(settings.commandLine(configPath: "/o/c.json") == ["/venv/bin/python", "-m", "torch.distributed.run", "--standalone",
                                                                   "--nproc-per-node", "4", "/t/train.py", "--config", "/o/c.json"])
    }
}

@Suite("train command")
struct TrainCommandTests {
    @Test func trainJSONPrintsTheSummaryAndExitsZero() async throws {
        let setup = try await TrainLauncherTests.Setup(stdout: TrainLauncherTests.goodRun)
        let result = try CommandRunner().run([
            "train", "--workspace", setup.fixture.workspace.root.path, "--shards", setup.shards.path, "--mode", "text-only",
            "--model", "/models/tiny", "--out", setup.fixture.dir.path("run").path, "--max-steps", "3",
            "--python", setup.fake.path, "--trainer", setup.fixture.dir.url.path, "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try result.json()
        #expect(json["steps"] as? Int == 3)
        #expect(json["first_loss"] as? Double == 2.5)
        #expect(json["final_loss"] as? Double == 1.5)
        #expect(json["wall_seconds"] as? Double == 4.25)
        #expect(json["peak_memory_bytes"] as? Int == 4096)
        #expect(json["checkpoint"] as? String == "/runs/x/final")
        #expect(json["mode"] as? String == "text-only")
    }

    @Test func aFailingTrainerExitsNonZeroWithItsErrorLine() async throws {
        let setup = try await TrainLauncherTests.Setup(stdout: #"{"event": "error", "message": "model folder /models/tiny has no config.json"}"#,
                                                       stderr: "Traceback (most recent call last):\n  boom", status: 2)
        let result = try CommandRunner().run([
            "train", "--workspace", setup.fixture.workspace.root.path, "--shards", setup.shards.path, "--mode", "paired",
            "--model", "/models/tiny", "--out", setup.fixture.dir.path("run").path, "--python", setup.fake.path,
            "--trainer", setup.fixture.dir.url.path,
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("model folder /models/tiny has no config.json"))
        #expect(!result.stderr.contains("Traceback"))
    }
}

@Suite("train interrupt")
struct TrainInterruptTests {
    /// Ctrl-C reaches dsbuild only (not the trainer's process group): dsbuild forwards it, the trainer stops,
    /// and the run is recorded as interrupted.
    @Test func sigintIsForwardedToTheTrainerAndTheRunRecordedAsInterrupted() async throws {
        let fixture = try FixtureWorkspace(images: 1, testEvery: 0)
        let (shards, _) = try await fixture.writeShards()
        let fake = fixture.dir.path("fake-python")
        let marker = fixture.dir.path("got-sigint")
        try """
            #!/bin/bash
            trap 'kill $sleeper; touch "\(marker.path)"; echo "{\\"event\\": \\"error\\", \\"message\\": \\"interrupted at step 1\\"}"; exit 130' INT
            echo '{"event": "start", "total_steps": 100}'
            echo '{"event": "step", "step": 1, "loss": 3.0}'
            sleep 60 >/dev/null 2>&1 &
            sleeper=$!
            touch "\(marker.path).ready"
            wait $sleeper
            """.write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let running = try CommandRunner().start([
            "train", "--workspace", fixture.workspace.root.path, "--shards", shards.path, "--mode", "text-only",
            "--model", "m", "--out", fixture.dir.path("run").path, "--python", fake.path, "--trainer", fixture.dir.url.path,
            "--verbose",
        ])
        // Wait until the trainer has installed its handler, then interrupt dsbuild alone.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !FileManager.default.fileExists(atPath: marker.path + ".ready") { usleep(20_000) }
        usleep(300_000)  // dsbuild installs its forwarder right after the spawn
        kill(running.process.processIdentifier, SIGINT)
        let result = running.wait()
        #expect(result.status != 0)
        #expect(FileManager.default.fileExists(atPath: marker.path), "\(result.stderr)")
        #expect(result.stderr.contains("interrupted"))
        let status = try fixture.workspace.manifest.read { db in try String.fetchOne(db, sql: "SELECT status FROM train_runs") }
        #expect(status == "interrupted")
    }
}
