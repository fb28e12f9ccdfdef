import Foundation

/// Places answers and keeps the answer-letter histogram near uniform.
public enum AnswerBalancer {
    /// Shuffles the options with a seed derived from the question id and `seed` (reproducible).
    public static func place(_ question: MCQuestion, seed: Int) -> MCQuestion {
        var generator = SeededGenerator(text: "\(seed)|\(question.id)")
        return question.permuted(Array(question.options.indices).shuffled(using: &generator))
    }

    /// Every letter's share within `tolerance` of uniform (0.05 = ±5 percentage points of the count).
    public static func isBalanced(_ questions: [MCQuestion], tolerance: Double = 0.05) -> Bool {
        let counts = histogram(questions)
        guard let k = questions.first?.options.count, !questions.isEmpty else { return true }
        let expected = Double(questions.count) / Double(k)
        return counts.allSatisfy { abs(Double($0) - expected) <= max(tolerance * expected, 1) }
    }

    public static func histogram(_ questions: [MCQuestion]) -> [Int] {
        var counts = [Int](repeating: 0, count: questions.first?.options.count ?? 4)
        for question in questions { counts[question.answer] += 1 }
        return counts
    }

    /// Places every answer by its seeded shuffle, then moves answers from the most to the least used letter by
    /// swapping two options (never dropping a question) until each letter is within `tolerance` of uniform.
    /// The questions moved are chosen in id order, so the result depends only on the input and the seed.
    public static func balance(_ questions: [MCQuestion], seed: Int, tolerance: Double = 0.05) -> [MCQuestion] {
        var placed = questions.map { place($0, seed: seed) }
        guard let k = placed.first?.options.count, placed.count >= k else { return placed }
        let target = placed.count / k
        var counts = histogram(placed)
        let order = placed.indices.sorted { placed[$0].id < placed[$1].id }
        var iterations = 0
        while !isBalanced(placed, tolerance: tolerance), iterations < placed.count {
            iterations += 1
            let over = counts.indices.max { counts[$0] < counts[$1] }!
            let under = counts.indices.min { counts[$0] < counts[$1] }!
            guard counts[over] > target, over != under,
                  let index = order.first(where: { placed[$0].answer == over }) else { break }
            var permutation = Array(0..<k)
            permutation.swapAt(over, under)
            placed[index] = placed[index].permuted(permutation)
            counts[over] -= 1
            counts[under] += 1
        }
        return placed
    }
}
