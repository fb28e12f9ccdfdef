import Dataset
import Foundation
import Hummingbird

import Review

/// The review app's POST `/action`: a form (`kind`, `action`, `keyword`, one `item` per selected item, and `to`
/// for a relabel, `text` / `question` `options` `answer` for an edit) applied through `ReviewDesk` under the
/// workspace lock, all selected items as one transaction and one undoable action (a bad item: 400, nothing
/// changed). Answers JSON: `{"ok", "message", "progress"}`; 409 when another command holds the lock.
struct ReviewActions: Sendable {
    let workspace: Workspace
    let reviewer: String

    /// `application/x-www-form-urlencoded` fields in order (repeated names kept).
    static func fields(_ form: String) -> [(String, String)] {
        form.split(separator: "&").map { part in
            let pair = part.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            return (pair.first ?? "", pair.count > 1 ? pair[1] : "")
        }
    }

    func handle(form: String) async -> Response {
        let fields = Self.fields(form)
        func value(_ name: String) -> String { fields.first { $0.0 == name }?.1 ?? "" }
        let items = fields.filter { $0.0 == "item" }.map(\.1)
        let lock: WorkspaceLock
        do {
            lock = try WorkspaceLock.acquire(root: workspace.root, command: "review")
        } catch {
            return Self.reply(ok: false, message: "workspace busy: \(error)", status: .conflict)
        }
        defer { lock.release() }
        let desk = ReviewDesk(manifest: workspace.manifest, reviewer: reviewer)
        do {
            let kind = value("kind"), action = value("action"), keyword = value("keyword")
            if kind == "description" || kind == "question", !keyword.isEmpty { try requireTexts(items, kind: kind, of: keyword) }
            switch (kind, action) {
            case (_, "undo"):
                guard try desk.undo() != nil else { return Self.reply(ok: false, message: "nothing to undo", status: .ok) }
            case ("image", "accept"), ("image", "reject"):
                try desk.decideImages(items, keyword: keyword, ReviewDesk.Verdict(rawValue: action)!)
            case ("image", "relabel"):
                try desk.relabelImages(items, from: keyword, to: value("to"))
            case ("description", "accept"), ("description", "reject"):
                let ids = try items.map { item in
                    guard let id = Int64(item) else { throw ReviewError(.unknownItem, item: item, "not a description id") }
                    return id
                }
                try desk.decideDescriptions(ids, ReviewDesk.Verdict(rawValue: action)!)
            case ("description", "edit"):
                guard items.count == 1, let id = items.first.flatMap(Int64.init) else { throw ReviewError(.unknownItem, item: items.first ?? "", "not a description id") }
                try desk.editDescription(id: id, text: value("text"))
            case ("question", "accept"), ("question", "reject"):
                try desk.decideQuestions(items, ReviewDesk.Verdict(rawValue: action)!)
            case ("question", "edit"):
                guard items.count == 1, let id = items.first, let answer = Int(value("answer")) else {
                    throw ReviewError(.invalid, item: items.first ?? "question", "an edit needs the question id and the answer's position")
                }
                let options = value("options").split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                try desk.editQuestion(id: id, question: value("question"), options: options, answer: answer)
            default:
                throw ReviewError(.invalid, item: "\(kind) \(action)", "unknown action")
            }
        } catch {
            return Self.reply(ok: false, message: "\(error)", status: .badRequest)
        }
        let progress = try? await workspace.manifest.asyncRead { db in try ReviewQueries.progress(in: db) }
        return Self.reply(ok: true, message: "", status: .ok, progress: progress.map { "\($0.reviewed) / \($0.total)" })
    }

    /// A text action sent from a keyword's page names that keyword: each item must be one of its texts.
    func requireTexts(_ items: [String], kind: String, of keyword: String) throws {
        let table = kind == "description" ? "descriptions" : "questions"
        let foreign = try workspace.manifest.read { db in
            try items.first { item in
                !(try Bool.fetchOne(db, sql: """
                    SELECT EXISTS (SELECT 1 FROM \(table) t JOIN keywords k ON k.id = t.keyword_id WHERE t.id = ? AND k.text = ?)
                    """, arguments: [item, keyword]) ?? false)
            }
        }
        if let foreign { throw ReviewError(.unknownItem, item: "\(kind) \(foreign)", "not a \(kind) of keyword \"\(keyword)\"") }
    }

    static func reply(ok: Bool, message: String, status: HTTPResponse.Status, progress: String? = nil) -> Response {
        var object: [String: Any] = ["ok": ok, "message": message]
        if let progress { object["progress"] = progress }
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: JSONText.encodeObject(object))))
    }
}
