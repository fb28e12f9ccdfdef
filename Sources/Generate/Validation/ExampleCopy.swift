import Foundation

/// `example_copy`: a reply to a document prompt (`llm.local.prompting: document`) that copies the prompt's worked
/// example instead of writing about its own subject — it names the example's subject ("red fox"), or repeats
/// `runWords` of the example's words in a row, or two of its options are options of the example (one alone, "Dark
/// brown", is an ordinary answer). A base model copies
/// its example readily; what it copies is about another subject and is not kept. (`ReplyHygiene`'s echo check
/// does not cover an example: it reads a template's text between its `{placeholders}`, and an example's JSON has
/// braces.)
public struct ExampleCopy: Sendable {
    public static let reason = "example_copy"
    /// Words in a row, copied from the example, that make a reply a copy.
    public static let runWords = 6

    /// The example's subject, as it is written in it ("Red fox").
    public let subject: String
    /// The example's texts (its section, or its question and rationale).
    public let texts: [String]
    /// The example's options: a set holding two of them is a copy.
    public let options: [String]

    public init(subject: String, texts: [String], options: [String] = []) {
        self.subject = subject
        self.texts = texts
        self.options = options
    }

    /// Why `text` copies the example, or nil; a `keyword` that itself holds the example's subject may name it.
    public func problem(in text: String, keyword: String) -> String? {
        let words = ReplyHygiene.normalizedWords(text)
        let subjectWords = ReplyHygiene.normalizedWords(subject)
        if !subjectWords.isEmpty, !Self.contains(ReplyHygiene.normalizedWords(keyword), subjectWords),
           Self.contains(words, subjectWords) {
            return "names \"\(subject)\", the subject of the prompt's worked example"
        }
        var runs = Set<String>()
        for example in texts {
            let exampleWords = ReplyHygiene.normalizedWords(example)
            guard exampleWords.count >= Self.runWords else { continue }
            for start in 0...(exampleWords.count - Self.runWords) {
                runs.insert(exampleWords[start..<start + Self.runWords].joined(separator: " "))
            }
        }
        if words.count >= Self.runWords {
            for start in 0...(words.count - Self.runWords) {
                let run = words[start..<start + Self.runWords].joined(separator: " ")
                if runs.contains(run) { return "copies the prompt's worked example: \"\(run)\"" }
            }
        }
        return nil
    }

    /// Why a question's `options` copy the example's, or nil: two or more of them are the example's options.
    public func problem(options given: [String]) -> String? {
        let example = Set(options.map { ReplyHygiene.normalizedWords($0).joined(separator: " ") })
        let shared = given.filter { example.contains(ReplyHygiene.normalizedWords($0).joined(separator: " ")) }
        guard shared.count >= 2 else { return nil }
        return "\(shared.count) options are the prompt's worked example's (\(shared.map { "\"\($0)\"" }.joined(separator: ", ")))"
    }

    private static func contains(_ words: [String], _ part: [String]) -> Bool {
        guard !part.isEmpty, words.count >= part.count else { return false }
        return (0...(words.count - part.count)).contains { Array(words[$0..<$0 + part.count]) == part }
    }
}
