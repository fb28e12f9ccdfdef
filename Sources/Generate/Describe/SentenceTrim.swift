/// Cutting a reply that stopped mid-sentence (`finish_reason: length`) back to its last whole sentence.
enum SentenceTrim {
    /// The text up to and including its last sentence end (`.`, `!`, `?`, `。`, `！`, `？`, optionally followed by a
    /// closing quote or bracket) that is followed by whitespace; nil when there is none (nothing whole to keep).
    static func lastWholeSentences(_ text: String) -> String? {
        let enders: Set<Character> = [".", "!", "?", "。", "！", "？"]
        let closers: Set<Character> = ["\"", "'", "”", "’", ")", "]", "」", "』"]
        var characters = Array(text)
        // The cut tail is by definition incomplete: drop it even when it happens to end with an ender.
        while let last = characters.last, !last.isWhitespace { characters.removeLast() }
        while let last = characters.last, last.isWhitespace { characters.removeLast() }
        while let last = characters.last {
            if closers.contains(last), characters.count >= 2, enders.contains(characters[characters.count - 2]) { break }
            if enders.contains(last) { break }
            characters.removeLast()
        }
        let kept = String(characters).trimmingWhitespace
        return kept.isEmpty ? nil : kept
    }
}

private extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
