import Dataset
import Foundation

/// `judgements_applied`: the judges' verdicts are in force. Unless `mcq.keep_disputed` is on, no question the
/// answer-key verifier disputed (its current verdict, about the question's present stem, options and key) is
/// accepted — which would put it in eval's test set or the training shards — or has a copy in a shard, a training
/// export or a question file under the shard folder; and no description rejected as `unfaithful` has a copy in a
/// shard or export. Copies are traced to their rows as `answer_keys_stable` and `split_disjoint` trace them: by the
/// stable record ids, else by content.
struct JudgementsAppliedCheck: WorkspaceCheck {
    let name = "judgements_applied"
    let rule = "no disputed question (unless mcq.keep_disputed) is accepted or in shards, exports or question files; no description rejected as unfaithful is in shards or exports"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        let manifest = context.manifest
        var out: [CheckViolation] = []
        /// Why a question may not be used, or nil.
        func disputed(_ id: String) -> String? {
            guard !context.keepDisputed, let q = manifest.questions[id], let verdict = manifest.answerKeyVerdicts[id],
                  verdict.judgementVerdict == .disputed, verdict.subjectSha256 == q.fingerprint else { return nil }
            let why = (verdict.detailObject["dispute"] as? String) == "ambiguous" ? "found it ambiguous" : "answered \(verdict.answer ?? "?"), not the key"
            return "the answer-key verifier (\(verdict.model)) \(why): \(verdict.reason ?? "")"
        }
        /// Why a description may not be used, or nil.
        func unfaithful(_ index: Int) -> String? {
            let d = manifest.descriptions[index]
            guard d.status == "rejected", d.reason == JudgementVerdict.unfaithful.rawValue else { return nil }
            return "description \(d.id) of \(d.keyword) was rejected as unfaithful"
        }
        func questionID(_ turns: [ChatTurn], recordID: String?) -> String? {
            if let recordID, let id = context.origins.questionByRecordID[recordID] { return id }
            guard let copy = QACopy.parse(turns) else { return nil }
            let ids = (context.origins.questionsByStem[copy.stem] ?? []).filter {
                manifest.questions[$0]?.options.map(ImageReference.neutralised) == copy.options && manifest.questions[$0]?.answer == copy.answer
            }
            return ids.first { disputed($0) != nil } ?? ids.first
        }
        func descriptionIndex(recordID: String?, text: String?) -> Int? {
            if let recordID, let i = context.origins.descriptionByRecordID[recordID] { return i }
            guard let text, let list = context.origins.descriptionsByText[text] else { return nil }
            return list.first { unfaithful($0) != nil } ?? list.first
        }
        func copyReason(_ turns: [ChatTurn], recordID: String?, text: String?) -> String? {
            if let id = questionID(turns, recordID: recordID), let reason = disputed(id) { return "\(context.name(question: id)): \(reason)" }
            let body = text ?? turns.last(where: { $0.role == "assistant" })?.content
            return descriptionIndex(recordID: recordID, text: body).flatMap(unfaithful)
        }

        for q in manifest.acceptedQuestions {
            guard let reason = disputed(q.id) else { continue }
            let use = q.split == "test" ? "is in the test set eval scores" : "is a training question"
            out.append(.init(item: context.name(question: q.id),
                             message: "\(use) though \(reason); mcq.keep_disputed is off — rerun `dsbuild mcq` (and `dsbuild shards`)"))
        }
        for record in context.shards.text {
            if let reason = copyReason(record.messages, recordID: record.id, text: record.text) {
                out.append(.init(item: record.item, message: "carries \(reason)"))
            }
        }
        for sample in context.shards.paired {
            if let reason = copyReason(sample.messages, recordID: sample.key, text: sample.text) {
                out.append(.init(item: sample.item, message: "carries \(reason)"))
            }
        }
        for conversation in context.exports.conversations {
            if let reason = copyReason(conversation.turns, recordID: conversation.id, text: nil) {
                out.append(.init(item: conversation.item, message: "carries \(reason)"))
            }
        }
        for exported in context.exports.questions {
            let q = exported.question
            let id = manifest.questions[q.id] != nil ? q.id
                : (context.origins.questionsByStem[q.question] ?? []).first { manifest.questions[$0]?.options.map(ImageReference.neutralised) == q.options }
            if let id, let reason = disputed(id) {
                out.append(.init(item: exported.item, message: "is a question file's copy of \(context.name(question: id)), though \(reason)"))
            }
        }
        return out
    }
}
