import Crypto
import Dataset
import Foundation
import GRDB

/// Fills a workspace's manifest with a small, real dataset from the K-Viscuit files, as if collect, filter,
/// describe and mcq had run: keywords (the Type 1 answers), candidates + downloads, images stored under
/// `images/ab/<sha>.jpg`, passing filter decisions (plus one dropped image), accepted descriptions and the
/// image's questions. For shards, train, eval, report and run tests.
public enum ManifestFixture {
    public struct Summary: Sendable {
        public var keywords: [String] = []
        public var keptImages: [String] = []
        public var droppedImage: String?
        public var descriptions = 0
        public var trainQuestions = 0
        public var testQuestions = 0
    }

    /// Imports the first `images` K-Viscuit images that exist; every `testEvery`-th keyword's questions go to
    /// the test split (0: none).
    @discardableResult
    public static func populate(_ workspace: Workspace, images: Int = 6, testEvery: Int = 3) throws -> Summary {
        let text = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8)
        var groups: [(path: String, rows: [[String: Any]])] = []
        var seen: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let path = o["image_path"] as? String else { continue }
            if let i = seen[path] { groups[i].rows.append(o) } else { seen[path] = groups.count; groups.append((path, [o])) }
        }
        var summary = Summary()
        let now = Date().timeIntervalSince1970
        var count = 0
        // One more image than asked: the last one is dropped by a filter rule.
        for group in groups where count < images + 1 {
            let file = TestPaths.kViscuitImages.appendingPathComponent(group.path)
            guard let data = try? Data(contentsOf: file),
                  let t1 = group.rows.first(where: { ($0["question_type"] as? Int) == 1 }),
                  let options = t1["options"] as? [String], let answer = t1["answer"] as? Int else { continue }
            let keyword = options[answer]
            let category = t1["category"] as? String ?? ""
            let sha = ContentHash.sha256Hex(data)
            let relative = Workspace.relativeImagePath(sha256: sha, fileExtension: "jpg")
            let destination = workspace.imageURL(relativePath: relative)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: destination.path) { try data.write(to: destination) }
            let dropped = count == images
            let split = (testEvery > 0 && count % testEvery == testEvery - 1) ? "test" : "train"
            try workspace.manifest.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO keywords(text, category, language, created_at) VALUES (?, ?, 'en', ?)",
                               arguments: [keyword, category, now])
                let kid = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [keyword])!
                try db.execute(sql: """
                    INSERT INTO candidates(keyword_id, source, source_id, image_url, page_url, license, author, created_at)
                    VALUES (?, 'commons', ?, ?, ?, 'CC BY-SA 4.0', 'K-Viscuit authors', ?)
                    """, arguments: [kid, group.path, t1["image_url"] as? String ?? "", "https://commons.wikimedia.org/wiki/File:\(group.path)", now])
                let cid = db.lastInsertedRowID
                try db.execute(sql: """
                    INSERT OR IGNORE INTO images(sha256, path, bytes, format, width, height, display_width, display_height, orientation, created_at)
                    VALUES (?, ?, ?, 'jpeg', 640, 480, 640, 480, 1, ?)
                    """, arguments: [sha, relative, data.count, now])
                try db.execute(sql: "INSERT INTO downloads(candidate_id, status, image_sha256, http_status, attempts, finished_at) VALUES (?, 'ok', ?, 200, 1, ?)",
                               arguments: [cid, sha, now])
                try db.execute(sql: """
                    INSERT INTO filter_decisions(image_sha256, keyword_id, rule, settings_hash, pass, value, threshold, reason, decided_at)
                    VALUES (?, ?, 'min_side', 'h1', 1, '480', '256', NULL, ?), (?, ?, 'duplicate', 'h1', ?, NULL, NULL, ?, ?)
                    """, arguments: [sha, kid, now, sha, kid, dropped ? 0 : 1, dropped ? "duplicate of another image" : nil, now])
                guard !dropped else { return }
                try db.execute(sql: """
                    INSERT INTO descriptions(keyword_id, image_sha256, aspect, mode, language, template_sha256, model, text, status, created_at)
                    VALUES (?, ?, 'visual', 'image-grounded', 'en', 'tpl-visual', 'fixture-model', ?, 'accepted', ?),
                           (?, '', 'cultural', 'text-only', 'en', 'tpl-cultural', 'fixture-model', ?, 'accepted', ?),
                           (?, '', 'visual', 'text-only', 'en', 'tpl-visual', 'fixture-model', 'rejected text', 'rejected', ?)
                    """, arguments: [kid, sha, "The \(keyword) in this picture is a \(category.lowercased()) item with a distinctive shape.", now,
                                     kid, "\(keyword) is part of Korean \(category.lowercased()) culture and has a long history.", now, kid, now])
                for row in group.rows {
                    let opts = JSONText.encode(row["options"] as? [String] ?? [])
                    try db.execute(sql: """
                        INSERT INTO questions(id, keyword_id, image_sha256, type, question, options, answer, category, split, status, origin, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', 'imported', ?)
                        """, arguments: [row["id_"] as? String ?? UUID().uuidString, kid, sha, row["question_type"] as? Int ?? 1,
                                         row["question"] as? String ?? "", opts, row["answer"] as? Int ?? 0, category, split, now])
                }
            }
            if dropped {
                summary.droppedImage = sha
            } else {
                summary.keywords.append(keyword)
                summary.keptImages.append(sha)
                summary.descriptions += 2
                if split == "test" { summary.testQuestions += group.rows.count } else { summary.trainQuestions += group.rows.count }
            }
            count += 1
        }
        return summary
    }
}
