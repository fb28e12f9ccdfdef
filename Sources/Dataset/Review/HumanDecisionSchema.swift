import GRDB

/// The tables and triggers of human review decisions (migration `v12-reviews`), and the one place where a human
/// decision overrides the automated ones:
///
/// - `reviews`: every action a reviewer took (`subject`, `action`, the item's stable key, `before` → `after` as
///   JSON, reviewer, time; `undone_at` once undone). The log; never rewritten except to mark an undo.
/// - `human_pairs`: the current human decision for an (image, keyword) pair (`accept` / `reject`). The `kept_pairs`
///   view — the one definition of "kept" that filter, describe, mcq, split, shards, status and the report read —
///   takes a pair's human decision in place of its filter decisions, so a rerun of `filter` (with any thresholds)
///   rewrites `filter_decisions` without changing what a human decided. A relabel is a `reject` for the old keyword
///   and an `accept` for the new one, which makes the pair pending for describe and mcq there.
/// - `human_texts`: the current human status of a description or question (`accepted` / `rejected`). Triggers
///   put it back whenever an automated stage writes another status (an upsert, a judge, dedup) and ignore a
///   delete of a human-decided row, so every query on `status` honours it without knowing about reviews.
enum HumanDecisionSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE reviews (
                id INTEGER PRIMARY KEY,
                subject TEXT NOT NULL CHECK (subject IN ('image', 'description', 'question')),
                action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'relabel', 'edit')),
                keyword TEXT NOT NULL,
                image_sha256 TEXT NOT NULL DEFAULT '',
                item TEXT NOT NULL,
                before TEXT NOT NULL DEFAULT '{}',
                after TEXT NOT NULL DEFAULT '{}',
                reviewer TEXT NOT NULL,
                reviewed_at REAL NOT NULL,
                undone_at REAL
            );
            CREATE INDEX reviews_by_item ON reviews(subject, item);
            CREATE TABLE human_pairs (
                image_sha256 TEXT NOT NULL,
                keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
                decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
                review_id INTEGER NOT NULL,
                PRIMARY KEY (image_sha256, keyword_id)
            ) WITHOUT ROWID;
            CREATE INDEX human_pairs_by_keyword ON human_pairs(keyword_id, decision);
            CREATE TABLE human_texts (
                subject TEXT NOT NULL CHECK (subject IN ('description', 'question')),
                item TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
                review_id INTEGER NOT NULL,
                PRIMARY KEY (subject, item)
            ) WITHOUT ROWID;
            DROP VIEW kept_pairs;
            CREATE VIEW kept_pairs AS
                SELECT p.image_sha256, p.keyword_id FROM pair_states p
                 WHERE p.min_pass = 1
                   AND NOT EXISTS (SELECT 1 FROM human_pairs h WHERE h.image_sha256 = p.image_sha256 AND h.keyword_id = p.keyword_id)
                UNION ALL
                SELECT h.image_sha256, h.keyword_id FROM human_pairs h WHERE h.decision = 'accept';
            """)
        for (table, subject, key) in [("descriptions", "description", "CAST(NEW.id AS TEXT)"), ("questions", "question", "NEW.id")] {
            let human = "SELECT status FROM human_texts WHERE subject = '\(subject)' AND item = \(key)"
            try db.execute(sql: """
                CREATE TRIGGER \(table)_human_status AFTER UPDATE OF status, reason ON \(table)
                 WHEN EXISTS (SELECT 1 FROM human_texts h WHERE h.subject = '\(subject)' AND h.item = \(key)
                                 AND (h.status != NEW.status OR NEW.reason IS NOT '\(HumanDecision.reason)'))
                BEGIN
                    UPDATE \(table) SET status = (\(human)), reason = '\(HumanDecision.reason)' WHERE id = NEW.id;
                END;
                CREATE TRIGGER \(table)_human_kept BEFORE DELETE ON \(table)
                 WHEN EXISTS (SELECT 1 FROM human_texts h WHERE h.subject = '\(subject)' AND h.item = \(key.replacingOccurrences(of: "NEW.", with: "OLD.")))
                BEGIN
                    SELECT RAISE(IGNORE);
                END;
                """)
        }
    }
}
