import Foundation

/// Accuracy of a set of questions with its 95% Wilson score interval.
public struct EvalScore: Sendable, Equatable {
    public var n = 0
    public var correct = 0
    public var unparsed = 0

    public init(n: Int = 0, correct: Int = 0, unparsed: Int = 0) {
        self.n = n
        self.correct = correct
        self.unparsed = unparsed
    }

    public var accuracy: Double { n == 0 ? 0 : Double(correct) / Double(n) }

    /// The Wilson score interval at 95% (z = 1.959964): sound at 0% and 100%, unlike the normal approximation.
    public var confidenceInterval: (low: Double, high: Double) { Self.wilson(correct: correct, n: n) }

    public static func wilson(correct: Int, n: Int, z: Double = 1.959963984540054) -> (low: Double, high: Double) {
        guard n > 0 else { return (0, 0) }
        let p = Double(correct) / Double(n)
        let nn = Double(n)
        let denominator = 1 + z * z / nn
        let centre = (p + z * z / (2 * nn)) / denominator
        let half = z * ((p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()) / denominator
        return (max(0, centre - half), min(1, centre + half))
    }

    mutating func add(correct isCorrect: Bool, unparsed isUnparsed: Bool) {
        n += 1
        if isCorrect { correct += 1 }
        if isUnparsed { unparsed += 1 }
    }

    public var json: [String: Any] {
        let ci = confidenceInterval
        return ["accuracy": accuracy, "n": n, "correct": correct, "unparsed": unparsed,
                "unparsed_rate": n == 0 ? 0 : Double(unparsed) / Double(n), "ci95": [ci.low, ci.high]]
    }
}
