import Dataset
import Foundation
import GRDB
import Imaging

/// `shards.parquet`: whether the img2dataset/NeMo parquet is written beside each paired tar — `auto` (when the
/// bundled environment has pyarrow; else left out with one line), `required` (the run fails without it), `off`
/// (neither the parquet nor the stats).
public enum ParquetMode: String, Sendable, CaseIterable { case auto, required, off }

/// The img2dataset/NeMo files beside each paired tar (`paired/NNNNN.parquet`, `paired/NNNNN_stats.json`), made
/// from the tar's own members so that they match it member by member (docs/shard-format.md).
///
/// The parquet is written by `trainer/shard_parquet.py` (pyarrow, the bundled environment) through one
/// `PythonLineBridge` per run, started when the first shard needs it. `shards.parquet` says what happens when that
/// environment is missing: `auto` writes the tars, the samples' fields and the stats, leaves the parquet out with one
/// line and `img2dataset.parquet: false` in `shards.json` (a later run with the environment adds only the parquet);
/// `required` fails the run; `off` writes neither parquet nor stats.
final class Img2DatasetSidecars {
    typealias Mode = ParquetMode

    /// One written file, as the marker and `shards.json` record it.
    struct FileEntry: Codable, Equatable {
        var file: String
        var sha256: String
        var bytes: Int

        var json: [String: Any] { ["file": file, "sha256": sha256, "bytes": bytes] }
    }

    let mode: Mode
    let python: String?
    let script: URL?
    let workspace: Workspace
    private var bridge: PythonLineBridge?
    /// Why the parquet is not written this run (auto mode, environment missing); nil while it is.
    private(set) var skipped: String?
    /// The sidecar files this run wrote (missing or not as recorded), counted in the summary's `sidecars_written`.
    private(set) var filesWritten = 0

    init(mode: Mode, python: String?, script: URL?, workspace: Workspace) {
        self.mode = mode
        self.python = python
        self.script = script
        self.workspace = workspace
    }

    /// `paired/00000.tar` → `paired/00000.parquet`, `paired/00000_stats.json`.
    static func names(of tar: String) -> (parquet: String, stats: String) {
        let stem = String(tar.dropLast(".tar".count))
        return (stem + ".parquet", stem + "_stats.json")
    }

    /// Makes the sidecars of `tar` that `marker` does not hold whole (recorded and present at their recorded size and sha256);
    /// returns the marker with them. A parquet the environment cannot write is left out (auto) or thrown (required).
    func complete(_ marker: ShardWriter.Marker, tar: String, in out: URL) throws -> ShardWriter.Marker {
        guard mode != .off else { return marker }
        var marker = marker
        let names = Self.names(of: tar)
        let needStats = !Self.present(marker.stats, in: out), needParquet = !Self.present(marker.parquet, in: out)
        guard needStats || (needParquet && skipped == nil) else { return marker }
        let rows = try Self.rows(of: out.appendingPathComponent(tar), file: tar)
        if needStats {
            let data = try stats(rows)
            try AtomicFile.write(data, to: out.appendingPathComponent(names.stats))
            marker.stats = FileEntry(file: names.stats, sha256: ContentHash.sha256Hex(data), bytes: data.count)
            filesWritten += 1
        }
        if needParquet, let bridge = try openBridge() {
            let url = out.appendingPathComponent(names.parquet)
            do {
                try bridge.send(["out": url.path, "rows": rows])
                _ = try bridge.expect("written")
            } catch {
                throw ShardError(.write, "\(names.parquet) cannot be written: \(error)")
            }
            let data = try Data(contentsOf: url)
            marker.parquet = FileEntry(file: names.parquet, sha256: ContentHash.sha256Hex(data), bytes: data.count)
            filesWritten += 1
        }
        return marker
    }

    /// Stops the bridge.
    func close() {
        bridge?.close()
        bridge = nil
    }

    /// Why the parquet cannot be written, said once: the script's own report (pyarrow missing, with its advice) as
    /// it is; any other failure (the interpreter did not start, died, spoke no protocol) naming the interpreter and
    /// what a parquet needs.
    static func bridgeFailure(_ error: any Error, python: String?) -> String {
        let prefix = "the parquet beside the paired tars cannot be written"
        if let bridge = error as? BridgeError, bridge.code == .reported {
            return "\(prefix): \(bridge); rerun shards to add them"
        }
        let interpreter = python.map { " with \($0)" } ?? ""
        return "\(prefix)\(interpreter) (\(error)); it needs a Python with pyarrow (`dsbuild train --setup` makes the bundled one, train.python names another), then rerun shards to add them"
    }

    /// `shards.json`'s `img2dataset`: whether every paired shard (`paired`, the index entries) has its parquet and
    /// stats and, when this run could not write a parquet, why.
    func indexJSON(paired: [[String: Any]]) -> [String: Any] {
        var json: [String: Any] = ["mode": mode.rawValue, "parquet": mode != .off && paired.allSatisfy { $0["parquet"] != nil },
                                   "stats": mode != .off && paired.allSatisfy { $0["stats"] != nil }]
        if let skipped { json["parquet_skipped"] = skipped }
        return json
    }

    private func openBridge() throws -> PythonLineBridge? {
        if let bridge { return bridge }
        if skipped != nil { return nil }
        do {
            guard let python, let script else {
                throw BridgeError(.start, script: "shard_parquet.py", "the bundled trainer folder (trainer/shard_parquet.py) was not found")
            }
            let started = try PythonLineBridge(python: python, script: script)
            do { _ = try started.expect("ready") } catch { started.terminate(); throw error }
            bridge = started
            return started
        } catch {
            let reason = Self.bridgeFailure(error, python: python)
            if mode == .required { throw ShardError(.write, reason) }
            skipped = reason
            return nil
        }
    }

    /// Whether `entry` is recorded and on disk as recorded: its size and its sha256 (a byte flipped in place is
    /// not the file recorded, and a rerun writes it again).
    static func present(_ entry: FileEntry?, in out: URL) -> Bool {
        guard let entry else { return false }
        let url = out.appendingPathComponent(entry.file)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
        return size == entry.bytes && (try? ContentHash.sha256Hex(fileAt: url)) == entry.sha256
    }

    /// One row per sample of the tar, in member order: its `.json` member's fields (provenance flattened), with
    /// `sha256` checked against the image member and `width`/`height` read from the image member's own header (the
    /// bytes in the tar are the truth a reader decodes).
    static func rows(of url: URL, file: String) throws -> [[String: Any]] {
        var reader = try TarReader(url: url)
        defer { reader.close() }
        var rows: [[String: Any]] = []
        var imageSHA: [String: String] = [:]
        var imageSize: [String: (Int, Int)] = [:]
        while let member = try reader.next() {
            let name = member.name
            guard let dot = name.lastIndex(of: ".") else { continue }
            let key = String(name[..<dot]), ext = String(name[name.index(after: dot)...])
            switch ext {
            case "json":
                guard var row = try? JSONSerialization.jsonObject(with: member.contents) as? [String: Any] else {
                    throw ShardError(.write, "\(file): member \(name) is not a JSON object")
                }
                for (field, value) in row["provenance"] as? [String: Any] ?? [:] where ["license", "author", "source", "page_url", "model"].contains(field) {
                    row[field] = value
                }
                row.removeValue(forKey: "provenance")
                row.removeValue(forKey: "messages")
                row.removeValue(forKey: "reencoded")
                if let sha = imageSHA[key], row["sha256"] as? String != sha {
                    throw ShardError(.write, "\(file): sample \(key)'s sha256 does not match its image member")
                }
                if let (width, height) = imageSize[key] {
                    row["width"] = width
                    row["height"] = height
                }
                rows.append(row.filter { !($0.value is NSNull) })
            case "txt":
                break
            default:
                imageSHA[key] = ContentHash.sha256Hex(member.contents)
                if let probe = try? ImageProber.probe(data: member.contents, scope: .geometry) { imageSize[key] = (probe.width, probe.height) }
            }
        }
        return rows
    }

    /// img2dataset's `NNNNN_stats.json` (`json.dump(stats, f, indent=4)`, its key order). Every sample of a shard is a
    /// success; `duration` is the time the shard's images took to download (the manifest's download attempts of
    /// its distinct images), not this run's clock: the same workspace gives the same bytes.
    private func stats(_ rows: [[String: Any]]) throws -> Data {
        let images = Array(Set(rows.compactMap { $0["image_sha256"] as? String })).sorted()
        let seconds = try workspace.manifest.read { db -> Double in
            var total = 0.0
            for chunk in stride(from: 0, to: images.count, by: 500) {
                let part = Array(images[chunk..<min(chunk + 500, images.count)])
                total += try Double.fetchOne(db, sql: """
                    SELECT COALESCE(SUM(a.duration), 0) FROM download_attempts a
                      JOIN downloads d ON d.candidate_id = a.candidate_id
                     WHERE d.status = 'ok' AND d.image_sha256 IN (\(KeptPairs.placeholders(part.count)))
                    """, arguments: StatementArguments(part)) ?? 0
            }
            return total
        }
        // At least a millisecond: img2dataset's logger divides by it.
        let duration = max((seconds * 1000).rounded() / 1000, 0.001)
        let count = rows.count
        let text = """
            {
                "count": \(count),
                "successes": \(count),
                "failed_to_download": 0,
                "failed_to_resize": 0,
                "duration": \(duration),
                "status_dict": {
                    "success": \(count)
                }
            }
            """
        return Data(text.utf8)
    }
}
