import Dataset
import Foundation
import GRDB

/// What `dsbuild embed` has left to do for one model, recomputed from the manifest each run: keywords whose text
/// (the recipe's prompt) has no vector yet, and images still in play — reached by a successful download and not
/// dropped under every keyword by a rule other than the embedding rules themselves — that have no vector.
struct EmbedWork: Sendable {
    struct Image: Sendable {
        let sha256: String
        let path: String
        /// The keywords it is a candidate of, and where it came from (a candidate's URL), for messages.
        let keywords: [String]
        let source: String
    }

    struct Keyword: Sendable {
        let id: Int64
        let text: String
    }

    var images: [Image] = []
    var keywords: [Keyword] = []
    /// Images and keywords that already have their vector.
    var embeddedImages = 0
    var embeddedKeywords = 0

    var isEmpty: Bool { images.isEmpty && keywords.isEmpty }

    static func load(model id: String, settings: EmbeddingSettings, in db: Database) throws -> EmbedWork {
        var work = EmbedWork()
        let exempt = EmbeddingSettings.dependentRules
        let rows = try Row.fetchCursor(db, sql: """
            SELECT i.sha256, i.path, GROUP_CONCAT(DISTINCT k.text) AS keywords, MIN(c.image_url) AS source,
                   EXISTS (SELECT 1 FROM image_embeddings e WHERE e.model_id = ? AND e.image_sha256 = i.sha256) AS done
              FROM downloads d
              JOIN candidates c ON c.id = d.candidate_id
              JOIN keywords k ON k.id = c.keyword_id
              JOIN images i ON i.sha256 = d.image_sha256
             WHERE d.status = 'ok'
               AND NOT EXISTS (SELECT 1 FROM filter_decisions f
                                WHERE f.image_sha256 = i.sha256 AND f.keyword_id = c.keyword_id AND f.pass = 0
                                  AND f.rule NOT IN (\(KeptPairs.placeholders(exempt.count))))
             GROUP BY i.sha256 ORDER BY i.sha256
            """, arguments: StatementArguments([id] + exempt))
        while let row = try rows.next() {
            if (row["done"] as Int) != 0 { work.embeddedImages += 1; continue }
            let keywords = (row["keywords"] as String? ?? "").split(separator: ",").map(String.init).sorted()
            work.images.append(Image(sha256: row["sha256"], path: row["path"], keywords: keywords, source: row["source"] ?? ""))
        }
        var stored: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT keyword_id, text FROM keyword_embeddings WHERE model_id = ?", arguments: [id]) {
            stored[row["keyword_id"]] = row["text"]
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, text, category FROM keywords ORDER BY id") {
            let category: String? = (row["category"] as String?).flatMap { $0.isEmpty ? nil : $0 }
            let text = settings.text(keyword: row["text"], category: category)
            if stored[row["id"]] == text { work.embeddedKeywords += 1 } else { work.keywords.append(Keyword(id: row["id"], text: text)) }
        }
        return work
    }

    /// The bridge's input: one JSON line per keyword text, then per image (its absolute path).
    func itemsJSONL(workspaceRoot: URL) -> String {
        var lines = keywords.map { JSONText.encodeObject(["kind": "text", "id": String($0.id), "text": $0.text]) }
        lines += images.map { JSONText.encodeObject(["kind": "image", "id": $0.sha256, "path": workspaceRoot.appendingPathComponent($0.path).path]) }
        return lines.joined(separator: "\n") + "\n"
    }
}
