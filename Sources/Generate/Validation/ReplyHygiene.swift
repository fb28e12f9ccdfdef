import Foundation

/// The checks every model reply passes before its text is used, whatever it is for (a description, a question,
/// an option) and whichever model wrote it: no NUL character (SQLite binds text as a C string: a NUL would cut the
/// stored text short without a word), no chat-template or control tokens (`<|im_end|>`, `<start_of_image>`,
/// `[INST]`, `</s>` — a small model that runs past its turn writes them), and no long verbatim run of the prompt's
/// own instructions (a model that echoes "Write plain prose, no lists…" has answered nothing). Declared once;
/// `DescriptionValidator` and `MCQValidator` call it, so a failure is a rejection with its reason, re-asked as
/// their other failures are.
public enum ReplyHygiene {
    /// `nul_character`: the reply holds U+0000.
    public static let nulReason = "nul_character"
    /// `control_tokens`: the reply holds a chat-template or control token.
    public static let controlTokensReason = "control_tokens"
    /// `prompt_echo`: the reply repeats a long run of the instructions word for word.
    public static let promptEchoReason = "prompt_echo"
    /// Words in a row, copied from the instructions, that make a reply an echo.
    public static let echoWords = 8

    /// Tokens no answer contains: chat-template markers of the common model families.
    static let controlMarkers = ["<|", "|>", "<start_of_", "<end_of_", "<bos>", "<eos>", "<pad>", "<unk>", "[INST]", "[/INST]",
                                 "<<SYS>>", "<</SYS>>", "<s>", "</s>", "<image>", "<think>", "</think>"]

    /// Markers that end a model's turn: a small local model served without its chat template's stop strings writes
    /// them and runs on into an invented next turn.
    static let endOfTurnMarkers = ["<|im_end|>", "<|im_start|>", "<end_of_turn>", "<start_of_turn>", "<|eot_id|>", "<|endoftext|>", "</s>"]

    /// `text` up to its first end-of-turn or other control marker, as a server holding the chat template's stop
    /// strings would have returned it; nil when there is none (or nothing before it). Used under `llm.local` only: a
    /// small model served without them runs on past its answer into markers and an invented next turn.
    public static func beforeEndOfTurn(_ text: String) -> String? {
        let cuts = (endOfTurnMarkers + controlMarkers).compactMap { text.range(of: $0)?.lowerBound }
        guard let first = cuts.min() else { return nil }
        let kept = String(text[..<first]).trimmingCharacters(in: .whitespacesAndNewlines)
        return kept.isEmpty ? nil : kept
    }

    /// The first problem of `text`, as `(reason, detail)`; `instructions` is the prompt template's text (its
    /// `{placeholders}` split it: a run never spans a filled-in value such as a quoted description).
    public static func problem(in text: String, instructions: String = "") -> (reason: String, detail: String)? {
        if text.unicodeScalars.contains("\u{0}") {
            return (nulReason, "contains a NUL character (U+0000), which would cut the stored text short")
        }
        if let marker = controlMarkers.first(where: { text.contains($0) }) {
            return (controlTokensReason, "holds the chat-template token \"\(marker)\"")
        }
        if let run = echoedRun(text, instructions: instructions) {
            return (promptEchoReason, "repeats the prompt's instructions: \"\(run)\"")
        }
        return nil
    }

    /// A run of `echoWords` words of `text` found in a row in `instructions`, or nil.
    static func echoedRun(_ text: String, instructions: String) -> String? {
        guard !instructions.isEmpty else { return nil }
        var runs = Set<String>()
        for part in segments(instructions) {
            let words = normalizedWords(part)
            guard words.count >= echoWords else { continue }
            for start in 0...(words.count - echoWords) { runs.insert(words[start..<start + echoWords].joined(separator: " ")) }
        }
        guard !runs.isEmpty else { return nil }
        let words = normalizedWords(text)
        guard words.count >= echoWords else { return nil }
        for start in 0...(words.count - echoWords) {
            let run = words[start..<start + echoWords].joined(separator: " ")
            if runs.contains(run) { return run }
        }
        return nil
    }

    /// The template's text between its `{placeholders}`.
    static func segments(_ template: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var inPlaceholder = false
        for character in template {
            if character == "{" { parts.append(current); current = ""; inPlaceholder = true; continue }
            if character == "}" && inPlaceholder { inPlaceholder = false; continue }
            if !inPlaceholder { current.append(character) }
        }
        parts.append(current)
        return parts
    }

    static func normalizedWords(_ text: String) -> [String] {
        let lowered = text.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : " " }
        return String(lowered).split(separator: " ").map(String.init)
    }
}
