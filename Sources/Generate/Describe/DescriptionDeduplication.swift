import Dataset
import Foundation
import GRDB

/// Settles near-duplicate descriptions after a describe run: within each keyword × aspect × language, the
/// descriptions are taken in a fixed order (mode, image, variant, template, model) and one whose word shingles are
/// at least `threshold` similar (Jaccard) to an earlier kept one is rejected as `near_duplicate`. Because the
/// order is fixed, the result does not depend on which request finished first, and a run resumed after a kill
/// ends with the same decisions as an uninterrupted one. A whole-set stage: `describe` runs it after the
/// descriptions, in one transaction.
public struct DescriptionDeduplication: WholeSetStage {
    public let name = "describe.dedup"
    /// The Jaccard similarity of word shingles at or above which a description is a near duplicate.
    public let threshold: Double

    public init(threshold: Double) { self.threshold = threshold }

    /// How many descriptions changed status.
    public func run(in context: StageContext) async throws -> Int {
        try Self.apply(in: context.manifest, threshold: threshold)
    }

    public func counts(of changed: Int) -> [String: Int] { ["changed": changed] }

    /// Returns how many descriptions changed status.
    @discardableResult
    public static func apply(in manifest: Manifest, threshold: Double) throws -> Int {
        try manifest.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, keyword_id, aspect, language, status, text FROM descriptions
                WHERE text IS NOT NULL AND (status = 'accepted' OR (status = 'rejected' AND reason = 'near_duplicate'))
                ORDER BY keyword_id, aspect, language, mode, image_sha256, variant, template_sha256, model
                """)
            /// Descriptions compete within one keyword, aspect and language.
            struct Group: Hashable { let keywordID: Int64; let aspect: String; let language: String }
            var kept: [Group: [Set<String>]] = [:]
            var changed = 0
            for row in rows {
                let group = Group(keywordID: row["keyword_id"], aspect: row["aspect"], language: row["language"])
                let shingles = NearDuplicate.shingles(row["text"] as String)
                let best = kept[group, default: []].map { NearDuplicate.jaccard(shingles, $0) }.max() ?? 0
                let wasAccepted = (row["status"] as String) == "accepted"
                if best >= threshold {
                    if wasAccepted {
                        try db.execute(sql: "UPDATE descriptions SET status = 'rejected', reason = 'near_duplicate', detail = ? WHERE id = ?",
                                       arguments: [String(format: "Jaccard %.2f with an accepted description", best), row["id"] as Int64])
                        changed += 1
                    }
                } else {
                    kept[group, default: []].append(shingles)
                    if !wasAccepted {
                        try db.execute(sql: "UPDATE descriptions SET status = 'accepted', reason = NULL, detail = NULL WHERE id = ?",
                                       arguments: [row["id"] as Int64])
                        changed += 1
                    }
                }
            }
            return changed
        }
    }
}
