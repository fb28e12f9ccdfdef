import Dataset
import Foundation

/// Places answers and keeps the answer-letter histogram near uniform.
public enum AnswerBalancer {
    /// Shuffles the options with a seed derived from the question id and `seed` (reproducible).
    public static func place(_ question: Question, seed: Int) -> Question {
        var generator = SeededGenerator(text: "\(seed)|\(question.id)")
        return question.permuted(Array(question.options.indices).shuffled(using: &generator))
    }

    /// Every letter's share within `tolerance` of uniform (0.05 = ±5 percentage points of the count).
    public static func isBalanced(_ questions: [Question], tolerance: Double = 0.05) -> Bool {
        let counts = histogram(questions)
        guard let k = questions.first?.options.count, !questions.isEmpty else { return true }
        let expected = Double(questions.count) / Double(k)
        return counts.allSatisfy { abs(Double($0) - expected) <= max(tolerance * expected, 1) }
    }

    public static func histogram(_ questions: [Question]) -> [Int] {
        var counts = [Int](repeating: 0, count: questions.first?.options.count ?? 4)
        for question in questions { counts[question.answer] += 1 }
        return counts
    }

    /// Places every answer by its seeded shuffle, then rebalances (see `rebalance`).
    public static func balance(_ questions: [Question], seed: Int, tolerance: Double = 0.05) -> [Question] {
        rebalance(questions.map { place($0, seed: seed) })
    }

    /// Moves answers of already placed questions from the most to the least used letter, by swapping two options
    /// (never dropping a question), until no two letters differ by more than one — the closest to uniform the
    /// count allows, so within any tolerance once n is large enough. The questions moved are chosen in id order,
    /// so the result depends only on the input. A question is not moved onto a letter another question of its
    /// `group` (e.g. the same image) already answers at, so two questions of one image keep distinct letters.
    ///
    /// Call it once, on the questions being created: stored questions are never passed again.
    public static func rebalance(_ questions: [Question], group: (Question) -> AnyHashable? = { _ in nil }) -> [Question] {
        var placed = questions
        guard let k = placed.first?.options.count, k > 1, placed.allSatisfy({ $0.options.count == k }) else { return placed }
        var counts = histogram(placed)
        let order = placed.indices.sorted { placed[$0].id < placed[$1].id }
        var lettersByGroup: [AnyHashable: [Int]] = [:]
        for q in placed { if let g = group(q) { lettersByGroup[g, default: []].append(q.answer) } }
        for _ in 0..<placed.count {
            guard let over = counts.indices.max(by: { counts[$0] < counts[$1] }),
                  let under = counts.indices.min(by: { counts[$0] < counts[$1] }),
                  counts[over] - counts[under] > 1 else { break }
            guard let index = order.first(where: { i in
                placed[i].answer == over && !(group(placed[i]).map { lettersByGroup[$0]?.contains(under) ?? false } ?? false)
            }) else { break }
            var permutation = Array(0..<k)
            permutation.swapAt(over, under)
            placed[index] = placed[index].permuted(permutation)
            if let g = group(placed[index]), let at = lettersByGroup[g]?.firstIndex(of: over) { lettersByGroup[g]?[at] = under }
            counts[over] -= 1
            counts[under] += 1
        }
        return placed
    }
}
