import Dataset
import Foundation
import GRDB

/// Reading questions and descriptions from the workspace, storing results in `eval_results`, and the
/// `--compare` view.
public enum EvalStore {
    /// Accepted questions of a split (and of one origin when given; `dsbuild eval` asks for `generated` unless told
    /// otherwise) from the manifest, as stored (`QuestionRow`), but: the image path is the stored image's absolute
    /// path in the workspace, a question with no category takes its keyword's, and a question with no keyword (an
    /// imported one with neither a keyword row nor a keyword from its file) takes the answer of the Type 1 question
    /// about its image.
    public static func questions(in workspace: Workspace, split: String, origin: String? = nil) throws -> [Question] {
        let root = workspace.root
        let questions = try workspace.manifest.read { db in
            var sql = """
                SELECT q.*, k.text AS keyword, k.category AS keyword_category, i.path AS image_file
                  FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id LEFT JOIN images i ON i.sha256 = q.image_sha256
                 WHERE q.status = 'accepted' AND q.split = ?
                """
            var arguments: StatementArguments = [split]
            if let origin { sql += " AND q.origin = ?"; arguments += [origin] }
            return try Row.fetchAll(db, sql: sql + " ORDER BY q.id", arguments: arguments).compactMap { row -> Question? in
                var q = try QuestionRow(row: row).question
                guard !q.options.isEmpty else { return nil }
                let file: String? = row["image_file"]
                q.imagePath = file.map { root.appendingPathComponent($0).path }
                q.category = q.category ?? row["keyword_category"]
                return q
            }
        }
        return QuestionFile.inferringKeywords(questions)
    }

    /// One accepted description per keyword (visual aspect first, then by id), for `description-only`.
    public static func descriptions(in workspace: Workspace) throws -> [String: String] {
        try workspace.manifest.read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT k.text AS keyword, d.text FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
                 WHERE d.status = 'accepted' AND d.text IS NOT NULL
                 ORDER BY k.text, (d.aspect = 'visual') DESC, d.aspect, d.mode, d.image_sha256, d.language, d.variant
                """) {
                let keyword: String = row["keyword"]
                if out[keyword] == nil { out[keyword] = row["text"] }
            }
            return out
        }
    }

    /// The train run whose out dir is `checkpoint` (or contains it), if recorded.
    public static func trainRunID(forCheckpoint checkpoint: String, in workspace: Workspace) throws -> Int64? {
        let path = URL(fileURLWithPath: checkpoint).standardizedFileURL.path
        return try workspace.manifest.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM train_runs WHERE out_dir = ? OR checkpoint = ? OR ? LIKE out_dir || '/%' ORDER BY id DESC LIMIT 1",
                               arguments: [path, path, path])
        }
    }

    /// Stores one condition's report; `runID` links it to the run that scored it (`EvalStage`'s `eval.<condition>` row).
    @discardableResult
    public static func store(_ report: EvalReport, label: String?, trainRunID: Int64?, runID: Int64?, in workspace: Workspace) throws -> Int64 {
        try store(report, label: label, trainRunID: trainRunID, runID: runID, in: workspace.manifest)
    }

    @discardableResult
    public static func store(_ report: EvalReport, label: String?, trainRunID: Int64?, runID: Int64?, in manifest: Manifest) throws -> Int64 {
        let json = JSONText.encodeObject(report.json)
        return try manifest.write { db in
            try db.execute(sql: """
                INSERT INTO eval_results(run_id, model, label, condition, circular, questions_source, train_run_id, result, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [runID, report.model, label, report.condition.rawValue, report.circular, report.source, trainRunID, json,
                                 Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    /// The latest stored result per (model, label, condition, circular, source), as rows for the comparison table.
    public static func compare(in workspace: Workspace) throws -> [[String: Any]] {
        try workspace.manifest.read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.id, e.model, e.label, e.condition, e.circular, e.questions_source, e.result, t.mode AS train_mode
                  FROM eval_results e LEFT JOIN train_runs t ON t.id = e.train_run_id
                 WHERE e.id IN (SELECT MAX(id) FROM eval_results GROUP BY model, COALESCE(label, ''), condition, circular, questions_source)
                 ORDER BY e.questions_source, COALESCE(e.label, e.model), e.condition, e.circular
                """).map { row in
                let result = (try? JSONSerialization.jsonObject(with: Data((row["result"] as String).utf8))) as? [String: Any] ?? [:]
                var out: [String: Any] = ["id": row["id"] as Int64, "model": row["model"] as String, "condition": row["condition"] as String,
                                          "circular": (row["circular"] as Int) != 0, "questions_source": row["questions_source"] as String,
                                          "overall": result["overall"] ?? [:], "by_type": result["by_type"] ?? [:]]
                out["label"] = (row["label"] as String?) ?? NSNull()
                out["train_mode"] = (row["train_mode"] as String?) ?? NSNull()
                return out
            }
        }
    }

    /// Results side by side: one line per stored result, Type 1 / Type 2 / overall accuracy.
    public static func compareText(_ rows: [[String: Any]]) -> String {
        func acc(_ o: Any?) -> String {
            guard let o = o as? [String: Any], let a = o["accuracy"] as? Double, let n = o["n"] as? Int, n > 0 else { return "     —" }
            return String(format: "%5.1f%%", a * 100)
        }
        var lines = ["model / label".padding(toLength: 32, withPad: " ", startingAt: 0) + "condition             Type 1  Type 2  overall   n"]
        for row in rows {
            let name = (row["label"] as? String) ?? (row["model"] as? String ?? "")
            var condition = row["condition"] as? String ?? ""
            if row["circular"] as? Bool == true { condition += " circ" }
            let types = row["by_type"] as? [String: Any] ?? [:]
            let overall = row["overall"] as? [String: Any]
            lines.append(name.padding(toLength: 32, withPad: " ", startingAt: 0) + condition.padding(toLength: 20, withPad: " ", startingAt: 0)
                         + "  \(acc(types["1"]))  \(acc(types["2"]))  \(acc(overall))  \(overall?["n"] as? Int ?? 0)")
        }
        return lines.joined(separator: "\n")
    }
}
