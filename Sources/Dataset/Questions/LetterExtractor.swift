import Foundation

/// Finds which option a model's reply chose, the way VLMEvalKit does: punctuation `.()[],:;!*#{}` becomes
/// spaces; exactly one option letter among the words, near the end, wins; else "answer is X"; else exactly one
/// option's text inside the reply (or the longest one when it contains every other match). Anything else —
/// two letters ("A or B"), no letter, a letter past the options — is unparsed (nil). The one extractor: eval and
/// the blind check both call it.
public enum LetterExtractor {
    public static func extract(_ reply: String, options: [String]) -> Int? {
        let letters = Array(QuestionVocabulary.letters.prefix(options.count))
        var cleaned = reply
        for ch in ".()[],:;!*#{}" { cleaned = cleaned.replacingOccurrences(of: String(ch), with: " ") }
        let words = cleaned.split(whereSeparator: \.isWhitespace).map(String.init)
        let found = letters.enumerated().filter { words.contains($0.element) }
        if found.count == 1, let position = words.lastIndex(of: found[0].element), position > words.count - 5 {
            return found[0].offset
        }
        if let range = reply.range(of: #"answer is\s*[\(\[]?([A-H])\b"#, options: [.regularExpression, .caseInsensitive]) {
            let tail = reply[range].trimmingCharacters(in: .whitespaces)
            if let letter = tail.last.map(String.init)?.uppercased(), let i = letters.firstIndex(of: letter) { return i }
        }
        let lower = reply.lowercased()
        let byText = options.enumerated().filter { !$0.element.isEmpty && lower.contains($0.element.lowercased()) }
        if byText.count == 1 { return byText[0].offset }
        // Several option texts inside the reply: take the longest when it contains all the others ("Gat" in "Gatgeun").
        if byText.count > 1, let longest = byText.max(by: { $0.element.count < $1.element.count }),
           byText.allSatisfy({ longest.element.lowercased().contains($0.element.lowercased()) }) {
            return longest.offset
        }
        return nil
    }
}
