import Dataset
import Foundation
import GRDB

/// Moves review decisions between workspaces as JSONL: one action in force a line, in the order it was taken,
/// keyed by image sha256 and keyword text (and a description's or question's content key), never by row ids.
public enum ReviewExchange {
    /// What an import did.
    public struct ImportResult: Sendable, Equatable {
        public var applied = 0
        /// Lines already recorded in this workspace (same action, item, reviewer and time).
        public var alreadyPresent = 0
        /// One line per record that could not be applied: `FILE:LINE: item: cause`.
        public var problems: [String] = []
    }

    /// Writes every action in force to `url`; returns how many.
    @discardableResult
    public static func export(from manifest: Manifest, to url: URL) throws -> Int {
        let lines = try manifest.read { db in
            try Row.fetchAll(db, sql: """
                SELECT subject, action, keyword, image_sha256, after, reviewer, reviewed_at FROM reviews WHERE undone_at IS NULL ORDER BY id
                """).map { row -> String in
                var record = (try? JSONSerialization.jsonObject(with: Data((row["after"] as String).utf8))) as? [String: Any] ?? [:]
                record["new_item"] = nil  // a row id of this workspace
                record["subject"] = row["subject"] as String
                record["action"] = row["action"] as String
                record["keyword"] = row["keyword"] as String
                record["image_sha256"] = row["image_sha256"] as String
                record["reviewer"] = row["reviewer"] as String
                record["reviewed_at"] = row["reviewed_at"] as Double
                return JSONText.encodeObject(record)
            }
        }
        let text = lines.map { $0 + "\n" }.joined()
        try Data(text.utf8).write(to: url, options: .atomic)
        return lines.count
    }

    /// Applies the actions of `url` in order. A record that names an item this workspace lacks is reported and
    /// skipped; the rest continue.
    public static func importFile(_ url: URL, into manifest: Manifest) throws -> ImportResult {
        let text = try String(contentsOf: url, encoding: .utf8)
        var result = ImportResult()
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let place = "\(url.lastPathComponent):\(index + 1)"
            do {
                guard let record = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                    throw ReviewError(.badRecord, item: place, "not a JSON object")
                }
                if try apply(record, place: place, to: manifest) { result.applied += 1 } else { result.alreadyPresent += 1 }
            } catch let error as ReviewError {
                result.problems.append(error.item.hasPrefix(place) ? error.description : "\(place): \(error.description)")
            } catch {
                result.problems.append("\(place): not a review record (\(error))")
            }
        }
        return result
    }

    /// Applies one record; false when the same action is already recorded.
    static func apply(_ record: [String: Any], place: String, to manifest: Manifest) throws -> Bool {
        func field<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let value = record[name] as? T else { throw ReviewError(.badRecord, item: place, "missing or wrong \"\(name)\"") }
            return value
        }
        let subject = try field("subject", String.self), action = try field("action", String.self)
        let keyword = try field("keyword", String.self), sha = try field("image_sha256", String.self)
        let reviewer = try field("reviewer", String.self), time = try field("reviewed_at", NSNumber.self).doubleValue
        if let problem = ReviewDesk.reviewerProblem(reviewer) { throw ReviewError(.badRecord, item: place, problem) }
        // A time from before 2000 or more than a day ahead is no review's.
        guard time.isFinite, time >= 946_684_800, time <= Date().timeIntervalSince1970 + 86_400 else {
            throw ReviewError(.badRecord, item: place, "\"reviewed_at\" \(time) is not a time a review was taken")
        }
        let key = record["key"] as? [String: Any] ?? [:]
        let present = try manifest.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM reviews WHERE subject = ? AND action = ? AND keyword = ? AND image_sha256 = ?
                                AND reviewer = ? AND reviewed_at = ? AND undone_at IS NULL)
                """, arguments: [subject, action, keyword, sha, reviewer, time]) ?? false
        }
        if present { return false }
        var desk = ReviewDesk(manifest: manifest, reviewer: reviewer)
        desk.now = { time }
        switch (subject, action) {
        case ("image", "accept"), ("image", "reject"):
            try desk.decideImage(sha256: sha, keyword: keyword, action == "accept" ? .accept : .reject)
        case ("image", "relabel"):
            try desk.relabelImage(sha256: sha, from: keyword, to: try field("to_keyword", String.self))
        case ("description", _):
            let id = try manifest.read { db in try findDescription(key, in: db) }
            guard let id else { throw ReviewError(.unknownItem, item: place, "no description of \"\(keyword)\" with key \(JSONText.encodeObject(key))") }
            if action == "edit" { try desk.editDescription(id: id, text: try field("text", String.self)) }
            else { try desk.decideDescription(id: id, try verdict(action, place)) }
        case ("question", _):
            let id = try manifest.read { db in try findQuestion(key, in: db) }
            guard let id else { throw ReviewError(.unknownItem, item: place, "no question of \"\(keyword)\" reading \"\(key["question"] as? String ?? "")\"") }
            if action == "edit" {
                try desk.editQuestion(id: id, question: try field("question", String.self), options: try field("options", [String].self),
                                      answer: try field("answer", NSNumber.self).intValue)
            } else {
                try desk.decideQuestion(id: id, try verdict(action, place))
            }
        default:
            throw ReviewError(.badRecord, item: place, "unknown action \(subject) \(action)")
        }
        return true
    }

    static func verdict(_ action: String, _ place: String) throws -> ReviewDesk.Verdict {
        guard let verdict = ReviewDesk.Verdict(rawValue: action) else { throw ReviewError(.badRecord, item: place, "unknown action \(action)") }
        return verdict
    }

    static func findDescription(_ key: [String: Any], in db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: """
            SELECT d.id FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
             WHERE k.text = ? AND d.image_sha256 = ? AND d.aspect = ? AND d.mode = ? AND d.language = ? AND d.variant = ?
               AND d.template_sha256 = ? AND d.model = ?
            """, arguments: [key["keyword"] as? String, key["image_sha256"] as? String, key["aspect"] as? String,
                             key["mode"] as? String, key["language"] as? String, (key["variant"] as? NSNumber)?.intValue,
                             key["template_sha256"] as? String, key["model"] as? String])
    }

    static func findQuestion(_ key: [String: Any], in db: Database) throws -> String? {
        try String.fetchOne(db, sql: """
            SELECT q.id FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id
             WHERE COALESCE(k.text, '') = ? AND q.image_sha256 = ? AND q.type = ? AND q.question = ? ORDER BY q.rowid LIMIT 1
            """, arguments: [key["keyword"] as? String, key["image_sha256"] as? String, (key["type"] as? NSNumber)?.intValue,
                             key["question"] as? String])
    }
}
