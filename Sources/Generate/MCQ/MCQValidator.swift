import Foundation

/// The checks every question passes before it is accepted. Returns `(reason, detail)` for the first problem.
public struct MCQValidator: Sendable {
    public var optionCount = 4
    public var minQuestionChars = 10
    public var maxQuestionChars = 300
    public var maxOptionChars = 120
    /// The prompt template the question answers, for `ReplyHygiene`'s echo check ("" checks no echo).
    public var instructions = ""

    public init(instructions: String = "") { self.instructions = instructions }

    /// Lower-cased, punctuation and articles removed, whitespace collapsed: "The Gat." and "gat" are the same.
    public static func normalize(_ text: String) -> String {
        let lowered = text.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : " " }
        let words = String(lowered).split(separator: " ").filter { !["the", "a", "an"].contains($0) }
        return words.joined(separator: " ")
    }

    static let catchAll = ["all of the above", "none of the above", "all of these", "none of these", "both a and b",
                           "모두 정답", "정답 없음", "위의 모두", "위의 것 모두", "해당 없음"]

    public func check(question: String, options: [String], answer: String?, keyword: String? = nil, type: Int) -> (String, String)? {
        for text in [question] + options {
            if let problem = ReplyHygiene.problem(in: text, instructions: instructions) { return problem }
        }
        if type == 2, let fragment = Self.fragment(question: question, options: options) { return fragment }
        if options.count != optionCount { return ("option_count", "\(options.count) options, \(optionCount) wanted") }
        let normalized = options.map(Self.normalize)
        if normalized.contains(where: \.isEmpty) { return ("empty_option", "an option is empty") }
        if Set(normalized).count != normalized.count { return ("duplicate_options", "options repeat after normalisation: \(options)") }
        if let bad = options.first(where: { option in Self.catchAll.contains { Self.normalize(option).contains(Self.normalize($0)) } }) {
            return ("catch_all_option", "\"\(bad)\" is an all/none-of-the-above option")
        }
        if let answer, !normalized.contains(Self.normalize(answer)) {
            return ("answer_not_in_options", "the answer \"\(answer)\" is not among the options")
        }
        let stem = " \(Self.normalize(question)) "
        let answerText = answer ?? ""
        if !answerText.isEmpty, stem.contains(" \(Self.normalize(answerText)) ") {
            return ("answer_in_stem", "the question contains the answer \"\(answerText)\"")
        }
        if type == 1, let keyword, stem.contains(" \(Self.normalize(keyword)) ") {
            return ("keyword_in_stem", "the question names the keyword \"\(keyword)\"")
        }
        let trimmed = question.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count < minQuestionChars { return ("question_too_short", "\(trimmed.count) characters") }
        if trimmed.count > maxQuestionChars { return ("question_too_long", "\(trimmed.count) characters") }
        if let long = options.first(where: { $0.count > maxOptionChars }) { return ("option_too_long", "\"\(long.prefix(40))…\" has \(long.count) characters") }
        return nil
    }

    /// A Type 2 stem or option that is a piece of text, not a question or an answer (what a small model writes when
    /// it loses the thread): a stem that starts with punctuation (`>the answer…`) or does not end as a question or
    /// sentence (`The food is a`); an option that starts with punctuation (`: <…>`) or has no letter or digit.
    static func fragment(question: String, options: [String]) -> (String, String)? {
        let stem = question.trimmingCharacters(in: .whitespacesAndNewlines)
        if let first = stem.unicodeScalars.first, !startsLikeText(first) {
            return ("fragment_question", "starts with \"\(Character(first))\": \"\(stem.prefix(60))\"")
        }
        if let last = stem.last, !"?？.:。!)\"'”’".contains(last) {
            return ("fragment_question", "does not end as a question or sentence: \"…\(stem.suffix(60))\"")
        }
        for option in options {
            let text = option.trimmingCharacters(in: .whitespacesAndNewlines)
            if let first = text.unicodeScalars.first, !startsLikeText(first) {
                return ("fragment_option", "the option \"\(text.prefix(40))\" starts with \"\(Character(first))\"")
            }
            if !text.unicodeScalars.contains(where: { CharacterSet.alphanumerics.contains($0) }) {
                return ("fragment_option", "the option \"\(text.prefix(40))\" has no letter or digit")
            }
        }
        return nil
    }

    static func startsLikeText(_ scalar: Unicode.Scalar) -> Bool {
        CharacterSet.alphanumerics.contains(scalar) || "\"'“‘«(¿¡-+$€£¥#~≈<".unicodeScalars.contains(scalar)
    }
}
