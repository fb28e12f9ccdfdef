import Dataset
import Foundation
import GRDB

/// Inserts stored images as a collect run would leave them, with the probe facts the rules read.
public struct StoredImageFixture {
    public let workspace: Workspace
    var nextCandidate = 1
    let tmp: TemporaryDirectory

    public init(_ tmp: TemporaryDirectory) throws {
        self.tmp = tmp
        workspace = try Workspace.create(at: tmp.path("ws"))
    }

    @discardableResult
    public mutating func add(keyword: String, sha: String, width: Int, height: Int, orientation: Int = 1, format: String = "jpeg",
                      bytes: Int = 100_000, animated: Bool = false, rights: [String: String] = [:],
                      extra: [String: String] = [:], url: String = "https://upload.example.org/a.jpg",
                      createdAt: Double = 0, rank: Int = 0, category: String? = nil, copying file: URL? = nil) throws -> String {
        if let file {
            let target = workspace.imageURL(relativePath: "images/\(sha.prefix(2))/\(sha).jpg")
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: target.path) { try FileManager.default.copyItem(at: file, to: target) }
        }
        let swap = orientation >= 5
        let candidate = nextCandidate
        nextCandidate += 1
        try workspace.manifest.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO keywords(text, category, created_at) VALUES (?, ?, 0)", arguments: [keyword, category])
            let kid = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [keyword])!
            try db.execute(sql: """
                INSERT OR IGNORE INTO images(sha256, path, bytes, format, width, height, display_width, display_height,
                                             orientation, animated, rights, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [sha, "images/\(sha.prefix(2))/\(sha).jpg", bytes, format, width, height,
                                 swap ? height : width, swap ? width : height, orientation, animated,
                                 JSONText.encode(rights), createdAt])
            try db.execute(sql: """
                INSERT INTO candidates(keyword_id, source, source_id, image_url, extra, rank, created_at)
                VALUES (?, 'urls', ?, ?, ?, ?, 0)
                """, arguments: [kid, "\(candidate)", url, JSONText.encode(extra), rank])
            try db.execute(sql: "INSERT INTO downloads(candidate_id, status, image_sha256, finished_at) VALUES (?, 'ok', ?, 0)",
                           arguments: [db.lastInsertedRowID, sha])
        }
        return sha
    }

    /// Records a filter decision directly (for tests of later stages).
    public func decide(keyword: String, sha: String, rule: String, pass: Bool, reason: String) throws {
        try workspace.manifest.write { db in
            let kid = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [keyword])!
            try db.execute(sql: """
                INSERT OR REPLACE INTO filter_decisions(image_sha256, keyword_id, rule, settings_hash, pass, value, threshold, reason, decided_at)
                VALUES (?, ?, ?, 'test', ?, '', '', ?, 0)
                """, arguments: [sha, kid, rule, pass, reason])
        }
    }

    public func decisions() throws -> [String: [String: (pass: Bool, reason: String)]] {
        try workspace.manifest.read { db in
            var out: [String: [String: (Bool, String)]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT image_sha256, rule, pass, reason FROM filter_decisions") {
                out[row["image_sha256"], default: [:]][row["rule"]] = ((row["pass"] as Int) == 1, row["reason"])
            }
            return out
        }
    }
}

