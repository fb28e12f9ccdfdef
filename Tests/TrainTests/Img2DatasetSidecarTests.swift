import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
@testable import Train

/// The img2dataset/NeMo files beside each paired tar (`NNNNN.parquet`, `NNNNN_stats.json`), read by the real
/// readers (pyarrow, webdataset, pandas as NeMo Curator reads them). Opt-in like the other tests that run the
/// bundled Python: `DSBUILD_TRAINER_PYTHON` names a Python with the trainer's requirements (pyarrow among them).
@Suite("img2dataset sidecars", .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct Img2DatasetSidecarTests {
    let python = ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] ?? ""

    /// Reads `out` with scripts/interop/check_img2dataset.py.
    static func report(_ out: URL) throws -> [String: Any]? {
        guard let interop = Interop.pythonOrFail() else { return nil }
        let script = TestPaths.repositoryRoot.appendingPathComponent("scripts/interop/check_img2dataset.py").path
        let result = try runProcess([interop.path, script, out.path])
        try #require(result.status == 0, "check_img2dataset.py failed: \(result.stderr.suffix(3000))")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    }

    @Test func parquetAndStatsMatchTheTarMemberByMember() async throws {
        let fixture = try FixtureWorkspace()
        let (out, summary) = try await fixture.writeShards { $0.python = python; $0.parquet = .required }
        #expect(summary.parquetSkipped == nil)
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("shards.json"))) as? [String: Any])
        let paired = try #require(index["paired"] as? [[String: Any]])
        #expect(paired.count > 1)
        #expect((index["img2dataset"] as? [String: Any])?["parquet"] as? Bool == true)
        // shards.json lists each sidecar with its real sha256 and size.
        for entry in paired {
            for name in ["parquet", "stats"] {
                let file = try #require(entry[name] as? [String: Any], "\(entry["file"] ?? "") lists no \(name)")
                let data = try Data(contentsOf: out.appendingPathComponent(file["file"] as? String ?? ""))
                #expect(file["sha256"] as? String == ContentHash.sha256Hex(data))
                #expect(file["bytes"] as? Int == data.count)
            }
        }
        guard let report = try Self.report(out) else { return }
        let shards = try #require(report["shards"] as? [[String: Any]])
        #expect(shards.count == paired.count)
        var total = 0
        for shard in shards {
            let rows = try #require(shard["rows"] as? [[String: Any]])
            let samples = try #require(shard["samples"] as? [[String: Any]])
            total += samples.count
            // Member by member: same keys in the same order, the sha256 of the tar's image bytes, the decoded size.
            #expect(rows.map { $0["key"] as? String } == samples.map { $0["key"] as? String }, "\(shard["file"] ?? "")")
            for (row, sample) in zip(rows, samples) {
                #expect(row["sha256"] as? String == sample["sha256"] as? String)
                let decoded = sample["decoded"] as? [Int] ?? []
                #expect([row["width"] as? Int ?? -1, row["height"] as? Int ?? -1] == decoded)
                #expect(row["status"] as? String == "success")
                #expect(row["error_message"] is NSNull)
                #expect((row["original_width"] as? Int ?? 0) > 0 && (row["original_height"] as? Int ?? 0) > 0)
                #expect(fixture.summary.keptImages.contains(row["image_sha256"] as? String ?? ""))
                // The sample's .json carries the same fields.
                let json = try #require(sample["json"] as? [String: Any])
                for field in ["url", "caption", "status", "error_message", "original_width", "original_height", "sha256", "image_sha256", "exif"] {
                    #expect(json.keys.contains(field), "\(sample["key"] ?? "") .json has no \(field)")
                }
                #expect(json["sha256"] as? String == sample["sha256"] as? String)
                #expect(json["caption"] as? String == row["caption"] as? String)
                #expect(json["original_width"] as? Int == row["original_width"] as? Int)
            }
            // img2dataset's stats: the tar's count, all successes, a duration its logger can divide by.
            let stats = try #require(shard["stats"] as? [String: Any])
            #expect(stats["count"] as? Int == samples.count)
            #expect(stats["successes"] as? Int == samples.count)
            #expect(stats["failed_to_download"] as? Int == 0 && stats["failed_to_resize"] as? Int == 0)
            #expect((stats["duration"] as? Double ?? 0) > 0)
            #expect((stats["status_dict"] as? [String: Int]) == ["success": samples.count])
            let schema = try #require(shard["schema"] as? [String: String])
            #expect(schema["width"] == "int64" && schema["key"] == "string" && schema["exif"] == "string")
        }
        #expect(total == summary.pairedSamples)
        // NeMo Curator's from_webdataset: parquet partition i sorted by key is tar i's samples in order.
        let nemo = try #require(report["nemo"] as? [String: Any])
        #expect(nemo["aligned"] as? Bool == true)
        #expect(nemo["partitions"] as? Int == paired.count)
    }

    @Test func aRerunWritesOnlyTheMissingSidecarsWithTheSameBytes() async throws {
        let fixture = try FixtureWorkspace()
        let (out, first) = try await fixture.writeShards { $0.python = python }
        #expect(first.parquetSkipped == nil)
        let before = try ShardWriterTests().files(out)
        try FileManager.default.removeItem(at: out.appendingPathComponent("paired/00001.parquet"))
        try FileManager.default.removeItem(at: out.appendingPathComponent("paired/00000_stats.json"))
        let (_, second) = try await fixture.writeShards { $0.python = python }
        #expect(second.written == 0, "no shard is written again")
        #expect(second.sidecarsWritten == 2, "the two missing sidecars are counted")
        #expect(try ShardWriterTests().files(out) == before, "the missing sidecars come back byte for byte")
        // A changed parquet no longer matches shards.json: the index check before training refuses it.
        var parquet = try Data(contentsOf: out.appendingPathComponent("paired/00000.parquet"))
        parquet[parquet.count / 2] ^= 0xFF
        try parquet.write(to: out.appendingPathComponent("paired/00000.parquet"))
        #expect(throws: ShardIndex.ValidationError.self) { try ShardIndex.load(out, verify: true) }
        // A rerun compares the recorded sha256, not only the size: the same-size changed parquet is written again,
        // and so is a tar with a byte flipped in place.
        var tar = try Data(contentsOf: out.appendingPathComponent("paired/00001.tar"))
        tar[tar.count / 3] ^= 0xFF
        try tar.write(to: out.appendingPathComponent("paired/00001.tar"))
        let (_, third) = try await fixture.writeShards { $0.python = python }
        // The rewritten tar's sidecars are made again from it (2), and the changed parquet (1).
        #expect(third.written == 1 && third.sidecarsWritten == 3, "the tar and the parquet: \(third.written), \(third.sidecarsWritten)")
        #expect(try ShardWriterTests().files(out) == before, "both come back byte for byte")
        _ = try ShardIndex.load(out, verify: true)
        let (_, fourth) = try await fixture.writeShards { $0.python = python }
        #expect(fourth.written == 0 && fourth.sidecarsWritten == 0)
    }

    @Test func withoutPyarrowAutoLeavesTheParquetOutAndSaysWhyRequiredFailsOffWritesNeither() async throws {
        let fixture = try FixtureWorkspace()
        let missing = fixture.dir.path("no-such-venv/bin/python").path
        let (out, skipped) = try await fixture.writeShards { $0.python = missing }
        let reason = try #require(skipped.parquetSkipped)
        #expect(reason.contains("pyarrow") && reason.contains("dsbuild train --setup"), "\(reason)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("paired").path)
        #expect(!names.contains { $0.hasSuffix(".parquet") })
        #expect(names.filter { $0.hasSuffix("_stats.json") }.count == names.filter { $0.hasSuffix(".tar") }.count)
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("shards.json"))) as? [String: Any])
        #expect((index["img2dataset"] as? [String: Any])?["parquet"] as? Bool == false)
        // With the environment, the next run adds only the parquet.
        let (_, added) = try await fixture.writeShards { $0.python = python }
        #expect(added.written == 0 && added.parquetSkipped == nil)
        let after = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("paired").path)
        #expect(after.filter { $0.hasSuffix(".parquet") }.count == names.filter { $0.hasSuffix(".tar") }.count)
        // Without the environment again, one parquet gone: it cannot come back, and the others stay, listed.
        try FileManager.default.removeItem(at: out.appendingPathComponent("paired/00000.parquet"))
        let (_, partial) = try await fixture.writeShards { $0.python = missing }
        #expect(partial.parquetSkipped != nil)
        let partialIndex = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("shards.json"))) as? [String: Any])
        #expect((partialIndex["img2dataset"] as? [String: Any])?["parquet"] as? Bool == false)
        let verified = try ShardIndex.load(out, verify: true)
        #expect(verified.paired.map { $0.sidecars.count } == [1] + Array(repeating: 2, count: verified.paired.count - 1))
        let left = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("paired").path)
        #expect(left.filter { $0.hasSuffix(".parquet") }.count == verified.paired.count - 1)
        // required: the run fails, naming the cause.
        await #expect(throws: ShardError.self) {
            _ = try await fixture.writeShards("required") { $0.python = missing; $0.parquet = .required }
        }
        // off: plain WebDataset, no img2dataset files (and the ones of an earlier run go).
        let (offOut, _) = try await fixture.writeShards { $0.parquet = .off }
        let plain = try FileManager.default.contentsOfDirectory(atPath: offOut.appendingPathComponent("paired").path)
        #expect(plain.allSatisfy { $0.hasSuffix(".tar") }, "\(plain)")
    }

    /// A parquet that cannot be written says why once, naming the interpreter and the real cause: a Python that is
    /// not one (`/bin/false`), one killed by a signal, one without pyarrow (the script's own advice, not repeated).
    @Test func aBridgeFailureNamesTheInterpreterAndItsCauseOnce() async throws {
        let fixture = try FixtureWorkspace()
        let killed = fixture.dir.path("killed-python")
        try "#!/bin/sh\nkill -9 $$\n".write(to: killed, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: killed.path)
        let (_, falseRun) = try await fixture.writeShards("false") { $0.python = "/bin/false" }
        let notPython = try #require(falseRun.parquetSkipped)
        #expect(notPython.contains("/bin/false exited with status 1"), "\(notPython)")
        #expect(notPython.components(separatedBy: "dsbuild train --setup").count == 2, "\(notPython)")
        let (_, killedRun) = try await fixture.writeShards("killed") { $0.python = killed.path }
        let signal = try #require(killedRun.parquetSkipped)
        #expect(signal.contains("\(killed.path) was killed by signal 9"), "\(signal)")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
           (try? runProcess(["/usr/bin/python3", "-c", "import pyarrow"]))?.status != 0 {
            let (_, bare) = try await fixture.writeShards("bare") { $0.python = "/usr/bin/python3" }
            let reason = try #require(bare.parquetSkipped)
            #expect(reason.contains("pyarrow is not installed in /usr/bin/python3"), "\(reason)")
            #expect(reason.components(separatedBy: "dsbuild train --setup").count == 2, "the advice once: \(reason)")
        }
    }
}
