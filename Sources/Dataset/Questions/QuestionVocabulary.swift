import Foundation

/// The one vocabulary every multiple-choice question in dsbuild is asked in (K-Viscuit's convention): the option
/// letters, the prompt (the question, one `A. …` line per option, then the instruction) and its JSON spec, which
/// the bundled Python evaluator reads (`trainer/mcq_prompt.json`) so that both build the same prompt.
public enum QuestionVocabulary {
    /// The option letters, in order; a question has at most this many options.
    public static let letters = ["A", "B", "C", "D", "E", "F", "G", "H"]

    /// The last line of every prompt.
    public static let instruction = "Answer with the option's letter from the given choices directly."

    /// How one option line is written: the letter, this separator, the option's text.
    public static let optionSeparator = ". "

    /// The prompt for a question and its options, lines joined by `\n`.
    public static func prompt(question: String, options: [String]) -> String {
        var lines = [question]
        for (i, option) in options.enumerated() { lines.append(letters[i] + optionSeparator + option) }
        lines.append(instruction)
        return lines.joined(separator: "\n")
    }

    /// The letter of option `index` (nil past the last letter).
    public static func letter(_ index: Int) -> String? {
        letters.indices.contains(index) ? letters[index] : nil
    }

    /// The index of a letter (`"B"` → 1, case-insensitive), nil for anything else.
    public static func index(ofLetter text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        return t.count == 1 ? letters.firstIndex(of: t) : nil
    }

    /// The spec the Python evaluator builds its prompt from (`trainer/mcq_prompt.json`), pretty and key-sorted.
    public static var specJSON: String {
        let object: [String: Any] = ["letters": letters, "instruction": instruction, "option_separator": optionSeparator,
                                     "line_separator": "\n"]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
