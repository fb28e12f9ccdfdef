import Dataset
import Foundation

extension DescribeStage {
    /// Checks a written (or stored) description with the verifier and, while it is `unfaithful`, asks the writer
    /// again with the claims fed back — the writer's conversation gains its last answer and a user turn listing the
    /// claims (`DescriptionVerifier.feedback`) — up to `describe.max_attempts` answers in all; then it is rejected
    /// (`unfaithful`, the claims in the detail).
    ///
    /// A text-only description whose keyword has no faithful image-grounded description to check it against is
    /// accepted as `unverified`, with no request. A judge that gives no verdict makes the outcome `unverified`
    /// (a failure); one that stops the run (quota, key, cancellation) throws.
    func verified(_ first: String, summary first_summary: ChatResultSummary?, writer request: ChatRequest, item: Item,
                  verifier: DescriptionVerifier) async throws -> Outcome {
        let basis = DescriptionVerifier.basis(ofMode: item.mode)
        if basis == .descriptions && item.references.isEmpty {
            let record = DescriptionVerifier.Record(
                verdict: .unverified, basis: basis, unsupported: [], attempts: 1, earlier: [], references: 0, requestKey: nil,
                note: "not verified: \(item.keyword) has no accepted image-grounded description judged faithful to check it against")
            return .accepted(text: first, result: first_summary, verdict: record)
        }
        var text = first, summary = first_summary, conversation = request
        var earlier: [[String]] = []
        let attempts = max(settings.maxAttempts, 1)
        let name = "description of \(item.keyword) (\(item.aspect), \(item.mode)\(item.imageSHA256.isEmpty ? "" : ", image \(item.imageSHA256.prefix(12))"))"
        var attempt = 0
        while true {
            attempt += 1
            let verdict: FaithfulnessJudge.Verdict
            do throws(JudgeError) {
                switch basis {
                case .image:
                    guard let path = item.imagePath else {
                        throw JudgeError(.unreadableImage, judge: .faithfulness, item: name, detail: "the image has no stored file")
                    }
                    verdict = try await verifier.judge.judge(description: text, imageAt: workspaceRoot.appendingPathComponent(path),
                                                             keyword: item.keyword, category: item.category, item: name)
                case .descriptions:
                    verdict = try await verifier.judge.judge(description: text, references: item.references, keyword: item.keyword,
                                                             category: item.category, item: name)
                }
            } catch {
                if let stop = error.stopsRun { throw stop }
                return .unverified(error, text: text, result: summary)
            }
            let record = DescriptionVerifier.Record(verdict: verdict.verdict, basis: basis, unsupported: verdict.unsupported,
                                                    attempts: attempt, earlier: earlier, references: item.references.count,
                                                    requestKey: verdict.requestKey, note: nil)
            if verdict.accepts { return .accepted(text: text, result: summary, verdict: record) }
            if attempt >= attempts {
                let claims = verdict.unsupported.map { "\"\($0)\"" }.joined(separator: "; ")
                let against = basis == .image ? "the image does not support" : "the image-grounded descriptions of \(item.keyword) contradict"
                let rejection = DescriptionRejection(JudgementVerdict.unfaithful.rawValue,
                                                     "claims \(against) after \(attempts) answer\(attempts == 1 ? "" : "s"): \(claims)")
                return .rejected(rejection, text: text, result: summary, verdict: record)
            }
            earlier.append(verdict.unsupported)
            conversation.messages += [.assistant(text), .user(DescriptionVerifier.feedback(verdict.unsupported, basis: basis, keyword: item.keyword))]
            switch try await write(conversation, for: item) {
            case .text(let rewritten, let result):
                text = rewritten
                summary = result.adding(summary)
            case .rejected(let rejection, let rewritten, let result):
                return .rejected(rejection, text: rewritten, result: result?.adding(summary), verdict: nil)
            case .failed(let error):
                return .failed(error)
            }
        }
    }
}

extension DescribeStage.ChatResultSummary {
    /// This (the last) writer call's request key, with the tokens of `earlier` calls for the same description added.
    func adding(_ earlier: DescribeStage.ChatResultSummary?) -> DescribeStage.ChatResultSummary {
        guard let earlier else { return self }
        var sum = self
        sum.promptTokens += earlier.promptTokens
        sum.completionTokens += earlier.completionTokens
        sum.fromCache = fromCache && earlier.fromCache
        return sum
    }
}
