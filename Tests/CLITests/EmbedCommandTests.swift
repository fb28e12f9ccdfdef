import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// `dsbuild embed` through the command, with tiny CLIP, SigLIP and open_clip (BioCLIP-layout) models built locally
/// (`make_tiny_clip.py`), so the
/// real loading, batching and storage code runs: every image and keyword embedded once, nothing on a rerun, an
/// unreadable image named in one line while the rest are embedded, a killed run resumed with only the missing
/// vectors computed and no corrupt file, and clear errors for a model it cannot use.
/// Opt-in like the other tests that drive the trainer: `DSBUILD_TRAINER_PYTHON` names its Python.
@Suite(.serialized, .enabled(if: TinyEmbeddingModel.python != nil))
struct EmbedCommandTests {
    struct Setup {
        let tmp = TemporaryDirectory("embed-cli")
        let cli = CommandRunner()
        var workspace: URL { tmp.path("ws") }
        /// Images collected (the broken one included).
        var images = 0

        /// Two keywords of real K-Viscuit photos (and a photo stored sideways), optionally a truncated JPEG.
        init(model: URL, broken: Bool = false, batchSize: Int = 4) throws {
            let items = try KViscuitFixture.type1Items().filter {
                FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            let folder = try PhotoFolder(root: tmp.path("photos"))
            var seen = Set<String>()
            for item in items where seen.insert(item.imagePath).inserted && seen.count <= 8 {
                try folder.add(item, keyword: seen.count <= 4 ? "Hanbok" : "Kimchi")
                images += 1
            }
            try folder.add(WorldImage.rotated6.data, named: "sideways.jpg", keyword: "Hanbok", attribution: .madeByTest("sideways"))
            images += 1
            // A photo whose stored file is damaged after collect (a disk error, a bad copy): collect probes and keeps
            // only whole images, so a damaged one reaches embed this way.
            let damaged = broken ? try folder.add(ImageFactory.blockJPEG(width: 64, height: 48) { bx, by in [UInt8(bx * 30), UInt8(by * 40), 90] },
                                                  named: "damaged.jpg", keyword: "Kimchi", attribution: .madeByTest("damaged")) : nil
            if broken { images += 1 }
            try "keyword,category\nHanbok,clothing\nKimchi,food\n".write(to: tmp.path("kw.csv"), atomically: true, encoding: .utf8)
            try """
                keywords: kw.csv
                collect:
                  sources:
                    directory:
                      path: \(tmp.path("photos").path)
                filter:
                  embeddings:
                    model: \(model.path)
                    batch_size: \(batchSize)

                """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
            #expect(try cli.run(["init", workspace.path, "--recipe", tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
            let collect = try cli.run(["collect", "--workspace", workspace.path, "--quiet"])
            #expect(collect.status == 0, "\(collect.stderr)")
            if let damaged {
                let sha = ContentHash.sha256Hex(try Data(contentsOf: damaged))
                let stored = workspace.appendingPathComponent(Workspace.relativeImagePath(sha256: sha, fileExtension: "jpg"))
                try Data(try Data(contentsOf: stored).prefix(200)).write(to: stored)
            }
        }

        func embed(_ extra: [String] = [], environment: [String: String] = [:]) throws -> CommandRunner.Result {
            try CommandRunner(environment: environment).run(["embed", "--workspace", workspace.path, "--python", TinyEmbeddingModel.python!] + extra)
        }

        func count(_ table: String) throws -> Int {
            try Workspace.open(at: workspace).manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
        }

        /// The model's recorded rows, vector size and file.
        func model() throws -> (rows: Int, dim: Int, file: URL) {
            try Workspace.open(at: workspace).manifest.read { db in
                let row = try #require(try Row.fetchOne(db, sql: "SELECT rows, dim, file FROM embedding_models"))
                return (row["rows"], row["dim"], workspace.appendingPathComponent(row["file"] as String))
            }
        }
    }

    @Test(arguments: ["clip", "siglip", "open_clip"])
    func everyImageAndKeywordIsEmbeddedOnceAndAnUnreadableImageIsNamedWhileTheRestAreEmbedded(_ family: String) throws {
        let s = try Setup(model: try TinyEmbeddingModel.folder(family), broken: true)
        let first = try s.embed(["--json"])
        #expect(first.status == 1, "an unreadable image makes the exit status non-zero: \(first.stderr)")
        let errors = first.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1, "\(first.stderr)")
        #expect(errors.first?.contains("damaged.jpg") == true && errors.first?.contains("(Kimchi)") == true, "\(errors)")
        let json = try first.json()
        #expect(json["family"] as? String == family && json["dim"] as? Int == 32)
        let images = try #require(json["images"] as? [String: Any])
        #expect(images["embedded"] as? Int == s.images - 1 && images["failed"] as? Int == 1)
        #expect((json["keywords"] as? [String: Any])?["embedded"] as? Int == 2)
        let model = try s.model()
        #expect(model.rows == s.images - 1 + 2)
        #expect(try FileManager.default.attributesOfItem(atPath: model.file.path)[.size] as? Int == model.rows * model.dim * 2)

        // A rerun finds only the unreadable image left: it fails again, nothing is embedded twice.
        let again = try s.embed(["--json"])
        #expect(again.status == 1)
        let rerun = try #require(try again.json()["images"] as? [String: Any])
        #expect(rerun["embedded"] as? Int == 0 && rerun["already"] as? Int == s.images - 1 && rerun["failed"] as? Int == 1)
        #expect(try s.model().rows == model.rows)
    }

    /// Killed (SIGKILL) between batches: the recorded vectors stay as they were, the file is never corrupt, and the
    /// rerun computes exactly the missing ones.
    @Test func aKilledRunResumesComputingOnlyTheMissingVectors() throws {
        let s = try Setup(model: try TinyEmbeddingModel.folder("clip"), batchSize: 1)
        let running = try CommandRunner(environment: ["DSBUILD_TEST_EMBED_DELAY_MS": "500"])
            .start(["embed", "--workspace", s.workspace.path, "--python", TinyEmbeddingModel.python!, "--quiet"])
        let started = Date()
        while (try? s.count("image_embeddings")) ?? 0 < 3 && Date().timeIntervalSince(started) < 120 { Thread.sleep(forTimeInterval: 0.05) }
        running.kill()
        _ = running.wait()
        let recordedImages = try s.count("image_embeddings")
        #expect(recordedImages >= 3 && recordedImages < s.images, "killed after \(recordedImages) of \(s.images) images")
        let before = try s.model()
        #expect(before.rows == recordedImages + 2)
        let prefix = try Data(contentsOf: before.file).prefix(before.rows * before.dim * 2)
        #expect(prefix.count == before.rows * before.dim * 2, "the file holds every recorded row")

        let resumed = try s.embed(["--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let json = try resumed.json()
        let images = try #require(json["images"] as? [String: Any])
        #expect(images["already"] as? Int == recordedImages)
        #expect(images["embedded"] as? Int == s.images - recordedImages)
        #expect((json["keywords"] as? [String: Any])?["embedded"] as? Int == 0)
        let after = try s.model()
        #expect(after.rows == s.images + 2)
        let data = try Data(contentsOf: after.file)
        #expect(data.count == after.rows * after.dim * 2, "no unrecorded tail is left behind")
        #expect(data.prefix(prefix.count) == prefix, "the vectors recorded before the kill were not rewritten")
        #expect(try s.count("image_embeddings") == s.images)
    }

    @Test func aModelItCannotUseIsAClearErrorAndNothingIsRecorded() throws {
        let s = try Setup(model: try TinyEmbeddingModel.folder("clip"))
        let bioclip = s.tmp.path("bioclip")
        try FileManager.default.createDirectory(at: bioclip, withIntermediateDirectories: true)
        try Data(#"{"model_cfg": {"embed_dim": 512}}"#.utf8).write(to: bioclip.appendingPathComponent("open_clip_config.json"))
        try Data(count: 64).write(to: bioclip.appendingPathComponent("open_clip_model.safetensors"))
        let openCLIP = try s.embed(["--model", bioclip.path])
        #expect(openCLIP.status == 2, "\(openCLIP.stderr)")
        let line = openCLIP.stderr.split(separator: "\n").first { $0.hasPrefix("error:") } ?? ""
        #expect(line.contains("open_clip") && line.contains(bioclip.path), "\(openCLIP.stderr)")
        #expect(try s.count("image_embeddings") == 0)

        let missing = try s.embed(["--model", s.tmp.path("nowhere").path])
        #expect(missing.status == 2 && missing.stderr.contains("no such folder"), "\(missing.stderr)")

        let noPython = try s.cli.run(["embed", "--workspace", s.workspace.path, "--python", "/nonexistent/python3"])
        #expect(noPython.status == 1 && noPython.stderr.contains("/nonexistent/python3: not found"), "\(noPython.stderr)")
    }
}

/// `dsbuild run` embeds before it filters when the recipe names an embedding model, so `clip_rank` and
/// `semantic_duplicates` decide every image in one run.
@Suite(.enabled(if: TinyEmbeddingModel.python != nil))
struct RunEmbedStageTests {
    @Test func runEmbedsBeforeTheFilterWhenTheRecipeNamesAModel() throws {
        let tmp = TemporaryDirectory("run-embed")
        let folder = try PhotoFolder(root: tmp.path("photos"))
        var added = 0
        for item in try KViscuitFixture.type1Items().prefix(12)
        where FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath).path) && added < 4 {
            try folder.add(item, keyword: added < 2 ? "Gat" : "Hanbok")
            added += 1
        }
        try "Gat\nHanbok\n".write(to: tmp.path("kw.txt"), atomically: true, encoding: .utf8)
        try """
            keywords: kw.txt
            collect:
              sources:
                directory:
                  path: \(tmp.path("photos").path)
            filter:
              min_short_side: 32
              aspect_ratio: [0.2, 5]
              embeddings:
                model: \(try TinyEmbeddingModel.folder("clip").path)
              clip_rank:
                enabled: true
                k: 2
              semantic_duplicates:
                enabled: true

            """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
        let environment = ["DSBUILD_TRAINER_PYTHON": TinyEmbeddingModel.python!]
        let result = try CommandRunner(environment: environment).run(["run", tmp.path("recipe.yaml").path, "--workspace", tmp.path("ws").path,
                                                                      "--until", "filter", "--json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let stages = try #require(try result.json()["stages"] as? [[String: Any]])
        #expect(stages.map { $0["stage"] as? String } == ["collect", "embed", "filter"])
        #expect(stages.first { $0["stage"] as? String == "embed" }?["done"] as? Int == 4)
        let undecided = try Workspace.open(at: tmp.path("ws")).manifest.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM filter_decisions WHERE pass = -1") ?? 0
        }
        #expect(undecided == 0, "every image decided in the one run")
    }
}
