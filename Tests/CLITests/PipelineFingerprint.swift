import Dataset
import Foundation
import GRDB
import Testing

/// What two runs of `dsbuild run` are compared by: the manifest rows that matter and the shards' bytes, without
/// run ids or timestamps. Shared by the resume and fault-injection tests.
enum PipelineFingerprint {
    /// Everything a run decides, without ids or timestamps, one line per row.
    static func manifest(_ directory: URL) throws -> [String] {
        let ws = try Workspace.open(at: directory)
        return try ws.manifest.read { db in
            var lines: [String] = []
            func add(_ sql: String) throws {
                for row in try Row.fetchAll(db, sql: sql) {
                    lines.append(row.columnNames.map { "\(row[$0] as DatabaseValue)" }.joined(separator: "|"))
                }
            }
            try add("SELECT 'kw', text, category FROM keywords ORDER BY text")
            try add("SELECT 'cand', k.text, c.source, c.source_id, c.license, c.author FROM candidates c JOIN keywords k ON k.id = c.keyword_id ORDER BY 2, 3, 4")
            try add("SELECT 'dl', c.source_id, d.status, d.reason, d.image_sha256 FROM downloads d JOIN candidates c ON c.id = d.candidate_id ORDER BY 2")
            try add("SELECT 'img', sha256, format, width, height FROM images ORDER BY sha256")
            try add("SELECT 'dec', image_sha256, k.text, rule, pass, reason FROM filter_decisions f JOIN keywords k ON k.id = f.keyword_id ORDER BY 2, 3, 4")
            try add("SELECT 'desc', k.text, d.image_sha256, d.aspect, d.mode, d.language, d.variant, d.status, d.reason, d.text FROM descriptions d JOIN keywords k ON k.id = d.keyword_id ORDER BY 2, 3, 4, 5, 6, 7")
            try add("SELECT 'q', id, type, question, options, answer, split, status, reason FROM questions ORDER BY id")
            try add("SELECT 'split', k.text, s.image_sha256, s.split, s.settings_hash FROM splits s JOIN keywords k ON k.id = s.keyword_id ORDER BY 2, 3")
            return lines
        }
    }

    /// sha256 of every file under `shards/` (relative path → hash), the index with its timestamps left out, and each
    /// img2dataset stats file with its `duration` left out (the download time of the shard's images: a timing, which
    /// two workspaces that downloaded the same images do not share, like the manifest's timestamps).
    static func shards(_ directory: URL) throws -> [String: String] {
        let out = directory.appendingPathComponent("shards")
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            let relative = url.path.replacingOccurrences(of: out.path + "/", with: "")
            guard !relative.hasPrefix(".progress"), !url.hasDirectoryPath, relative != "shards.json" else { continue }
            if relative.hasSuffix("_stats.json") {
                let text = try String(contentsOf: url, encoding: .utf8)
                let timeless = text.replacingOccurrences(of: #""duration": [0-9.e+-]+"#, with: #""duration": 0"#, options: .regularExpression)
                #expect(timeless != text, "\(relative) has a duration")
                result[relative] = ContentHash.sha256Hex(timeless)
                continue
            }
            result[relative] = try ContentHash.sha256Hex(fileAt: url)
        }
        return result
    }

    /// Whether a run succeeded: exit 0, every stage (`check` last) ok.
    static func succeeded(_ status: Int32, _ summary: [String: Any]) -> Bool {
        guard status == 0, let stages = summary["stages"] as? [[String: Any]] else { return false }
        return stages.allSatisfy { ($0["status"] as? String) == "ok" }
    }

    /// The first line where two fingerprints differ, or nil when they are equal.
    static func firstDifference(_ a: [String], _ b: [String]) -> String? {
        for (x, y) in zip(a, b) where x != y { return "\(x.prefix(300)) vs \(y.prefix(300))" }
        return a.count == b.count ? nil : "\(a.count) rows vs \(b.count) rows"
    }
}
