import Foundation

/// `letter_balance`: the answer letters of the generated questions are near uniform per split and type: each
/// letter's count within ±5 % of n/k, and never held to less than one question of slack (the rule of
/// `AnswerBalancer.isBalanced`, which places them). Imported questions keep their source's letters and are not
/// counted; a reviewer's edited version (origin `human`, `dsbuild review`) stands in for the generated one it
/// replaced, so it is counted with them.
struct LetterBalanceCheck: WorkspaceCheck {
    let name = "letter_balance"
    let rule = "answer letters within ±5% of uniform (at least ±1 question) per split and type"
    let tolerance = 0.05

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        var groups: [String: [ManifestSnapshot.Question]] = [:]
        for q in context.manifest.acceptedQuestions where ["generated", "human"].contains(q.origin) && q.options.count >= 2 {
            groups["\(q.split)|\(q.type)|\(q.options.count)", default: []].append(q)
        }
        var out: [CheckViolation] = []
        for key in groups.keys.sorted() {
            let questions = groups[key]!
            let parts = key.split(separator: "|")
            let k = Int(parts[2])!
            var counts = [Int](repeating: 0, count: k)
            for q in questions where counts.indices.contains(q.answer) { counts[q.answer] += 1 }
            let expected = Double(questions.count) / Double(k)
            let slack = max(tolerance * expected, 1)
            let off = counts.indices.filter { abs(Double(counts[$0]) - expected) > slack }
            guard !off.isEmpty else { continue }
            let histogram = counts.indices.map { "\(ChatTemplates.letters[$0]) \(counts[$0])" }.joined(separator: ", ")
            let letters = off.map { ChatTemplates.letters[$0] }.joined(separator: ", ")
            out.append(.init(item: "split \(parts[0]), type \(parts[1])" + (k == 4 ? "" : ", \(k) options"),
                             message: "answers \(histogram) over \(questions.count) questions; \(letters) outside \(String(format: "%.2f", expected)) ± \(String(format: "%.2f", slack))"))
        }
        return out
    }
}
