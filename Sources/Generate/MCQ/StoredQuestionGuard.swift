import Dataset
import Foundation
import GRDB

/// An imported question whose id is already stored is never written over (stored answer keys and splits never
/// move): the same content is already present; different content is refused with what differs.
enum StoredQuestionGuard {
    enum Verdict: Equatable {
        case new
        case alreadyPresent
        /// One line naming the id and what differs.
        case conflict(String)
    }

    /// The verdict for `q` (its id as it would be stored) against the `questions` table.
    static func verdict(for q: Question, in db: Database) throws -> Verdict {
        guard let row = try Row.fetchOne(db, sql: "SELECT question, options, answer, split FROM questions WHERE id = ?", arguments: [q.id]) else {
            return .new
        }
        let options = (try? JSONSerialization.jsonObject(with: Data((row["options"] as String).utf8))) as? [String] ?? []
        let storedAnswer: Int = row["answer"], storedSplit: String = row["split"], storedQuestion: String = row["question"]
        func letter(_ i: Int) -> String { QuestionVocabulary.letter(i) ?? "#\(i)" }
        var stored: [String] = [], file: [String] = []
        if storedQuestion != q.question { stored.append("question \"\(storedQuestion)\""); file.append("\"\(q.question)\"") }
        if options != q.options {
            stored.append("options \(options.joined(separator: " | "))"); file.append(q.options.joined(separator: " | "))
        }
        if storedAnswer != q.answer { stored.append("answer \(letter(storedAnswer))"); file.append(letter(q.answer)) }
        let split = q.split ?? QuestionRow.defaultSplit
        if storedSplit != split { stored.append("split \(storedSplit)"); file.append(split) }
        guard !stored.isEmpty else { return .alreadyPresent }
        return .conflict("question \(q.id) is stored with \(stored.joined(separator: ", ")); the file says \(file.joined(separator: ", ")): "
                         + "not imported (stored questions never change; import it under a new id)")
    }
}
