import Dataset
import Foundation

/// `answer_keys_stable`: every copy of a question that left the manifest — a `qa` record of the text shards, a
/// paired `qa` sample, a conversation of a training export, a line of a question file under the shard folder —
/// still has the stem, the options in their order and the answer of the manifest's current row, and that row is
/// still accepted.
///
/// A question's placement (which option is A) is made once, when the question is created (it depends on the
/// whole set balanced with it), so it cannot be re-derived from a seed alone; the copies written from it are
/// the record it is compared with. A copy with an id (`t-`/`p-` keys, `id_`) is compared with its row; one without
/// (LLaMA-Factory, OpenAI) with the stored questions of the same stem and option set.
struct AnswerKeysStableCheck: WorkspaceCheck {
    let name = "answer_keys_stable"
    let rule = "every question copied into shards and exports equals the manifest's current row (stem, options, answer)"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        var out: [CheckViolation] = []
        for record in context.shards.text {
            guard let copy = QACopy.parse(record.messages) else { continue }
            out += compare(copy, id: context.origins.questionByRecordID[record.id], where: record.item, context)
        }
        for sample in context.shards.paired {
            guard let copy = QACopy.parse(sample.messages) else { continue }
            out += compare(copy, id: context.origins.questionByRecordID[sample.key], where: sample.item, context)
        }
        for conversation in context.exports.conversations {
            guard let copy = QACopy.parse(conversation.turns) else { continue }
            out += compare(copy, id: conversation.id.flatMap { context.origins.questionByRecordID[$0] }, where: conversation.item, context)
        }
        for exported in context.exports.questions {
            let q = exported.question
            let copy = QACopy(stem: q.question, options: q.options, answer: q.answer)
            let id = context.manifest.questions[q.id] != nil ? q.id : nil
            out += compare(copy, id: id, where: "\(exported.file) line \(exported.line)", context)
        }
        return out
    }

    static func describe(options: [String], answer: Int?) -> String {
        let letters = ChatTemplates.letters
        let list = options.enumerated().map { "\(letters[$0.offset]). \($0.element)" }.joined(separator: " | ")
        guard let answer, options.indices.contains(answer) else { return "[\(list)] answer ?" }
        return "[\(list)] answer \(letters[answer])"
    }

    private func compare(_ copy: QACopy, id: String?, where place: String, _ context: CheckContext) -> [CheckViolation] {
        let manifest = context.manifest
        let written = Self.describe(options: copy.options, answer: copy.answer)
        // Copies are written placeholder-free (`ImageReference.neutralised`): compared with the row as written.
        let n = ImageReference.neutralised
        if let id, let q = manifest.questions[id] {
            let item = "\(context.name(question: id)) in \(place)"
            if n(q.question) != copy.stem || q.options.map(n) != copy.options || q.answer != copy.answer {
                return [.init(item: item, message: "was written as \(written); the manifest now has \(Self.describe(options: q.options, answer: q.answer))"
                              + (n(q.question) != copy.stem ? " and another stem" : ""))]
            }
            if !q.accepted {
                return [.init(item: item, message: "is \(q.status) in the manifest since the copy was written; rerun `dsbuild shards`")]
            }
            return []
        }
        let sameSet = (manifest.questions.isEmpty ? [] : (context.origins.questionsByStem[copy.stem] ?? []))
            .compactMap { manifest.questions[$0] }
            .filter { Set($0.options.map(n)) == Set(copy.options) }
        if sameSet.contains(where: { $0.accepted && $0.options.map(n) == copy.options && $0.answer == copy.answer }) { return [] }
        if let q = sameSet.first {
            return [.init(item: "\(context.name(question: q.id)) in \(place)",
                          message: "was written as \(written); the manifest now has \(Self.describe(options: q.options, answer: q.answer))"
                              + (q.accepted ? "" : " and the question is \(q.status)"))]
        }
        return [.init(item: place, message: "holds a question the manifest does not have (\(copy.stem.prefix(60))…, \(written)); rerun `dsbuild shards`")]
    }
}
