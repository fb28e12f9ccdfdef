import Foundation

/// Why a description was rejected.
public struct DescriptionRejection: Sendable, Equatable {
    /// `too_short`, `too_long`, `wrong_language`, `refusal`, `other_keyword`, `near_duplicate`, `truncated`,
    /// `nul_character`, `control_tokens`, `prompt_echo` (`ReplyHygiene`).
    public let reason: String
    public let detail: String

    public init(_ reason: String, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
}

/// The checks a description must pass before it is accepted (duplicates are checked at record time, against the
/// descriptions already accepted).
public struct DescriptionValidator: Sendable {
    public var minChars: Int
    public var maxChars: Int
    /// Every keyword of the dataset, for the consistency check.
    public var allKeywords: [String]
    /// The prompt template the description answers, for `ReplyHygiene`'s echo check ("" checks no echo).
    public var instructions: String

    public init(minChars: Int, maxChars: Int, allKeywords: [String], instructions: String = "") {
        self.minChars = minChars
        self.maxChars = maxChars
        self.allKeywords = allKeywords
        self.instructions = instructions
    }

    public func check(_ text: String, keyword: String, language: String) -> DescriptionRejection? {
        if let problem = ReplyHygiene.problem(in: text, instructions: instructions) { return DescriptionRejection(problem.reason, problem.detail) }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let refusal = Self.refusal(in: trimmed) { return DescriptionRejection("refusal", "starts like a refusal: \"\(refusal)\"") }
        if trimmed.count < minChars { return DescriptionRejection("too_short", "\(trimmed.count) characters, at least \(minChars) wanted") }
        if trimmed.count > maxChars { return DescriptionRejection("too_long", "\(trimmed.count) characters, at most \(maxChars) wanted") }
        if let problem = Self.scriptProblem(trimmed, language: language) { return DescriptionRejection("wrong_language", problem) }
        if let other = otherSubject(trimmed, keyword: keyword) {
            return DescriptionRejection("other_keyword", "names \"\(other)\", another keyword of the dataset, as its subject")
        }
        return nil
    }

    // MARK: Refusals

    static let refusalMarkers = ["i can't", "i cannot", "i can not", "i'm sorry", "i am sorry", "as an ai", "i'm unable",
                                 "i am unable", "i won't", "unfortunately, i", "sorry, but", "i do not have enough information",
                                 "죄송하지만", "죄송합니다", "ai로서", "ai 언어 모델", "할 수 없습니다", "申し訳"]

    public static func refusal(in text: String) -> String? {
        let head = String(text.prefix(160)).lowercased().replacingOccurrences(of: "’", with: "'")
        return refusalMarkers.first { head.contains($0) }
    }

    // MARK: Language by script

    /// Checks that the letters are mostly in the script of `language` (Hangul for Korean, kana/Han for Japanese,
    /// Han for Chinese, Cyrillic for Russian, Latin for the rest).
    public static func scriptProblem(_ text: String, language: String) -> String? {
        var counts: [String: Int] = [:]
        var letters = 0
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            letters += 1
            counts[script(of: scalar), default: 0] += 1
        }
        guard letters >= 10 else { return nil }
        let wanted: Set<String>
        switch language.lowercased().prefix(2) {
        case "ko": wanted = ["hangul"]
        case "ja": wanted = ["kana", "han"]
        case "zh": wanted = ["han"]
        case "ru", "uk", "bg": wanted = ["cyrillic"]
        case "ar": wanted = ["arabic"]
        case "th": wanted = ["thai"]
        case "hi": wanted = ["devanagari"]
        default: wanted = ["latin"]
        }
        let share = Double(wanted.reduce(0) { $0 + (counts[$1] ?? 0) }) / Double(letters)
        // Korean text names foreign things in Latin letters now and then; ask for a clear majority.
        guard share < 0.6 else { return nil }
        let dominant = counts.max { $0.value < $1.value }?.key ?? "?"
        return "\(Int(share * 100))% of the letters are in the \(wanted.sorted().joined(separator: "/")) script expected for \(language); mostly \(dominant)"
    }

    static func script(of scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x41...0x24F, 0x1E00...0x1EFF: return "latin"
        case 0x0400...0x04FF: return "cyrillic"
        case 0x0600...0x06FF: return "arabic"
        case 0x0900...0x097F: return "devanagari"
        case 0x0E00...0x0E7F: return "thai"
        case 0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: return "hangul"
        case 0x3040...0x30FF: return "kana"
        case 0x4E00...0x9FFF, 0x3400...0x4DBF: return "han"
        default: return "other"
        }
    }

    // MARK: Keyword consistency

    /// A different keyword of the dataset named in the first sentence while this keyword is not: the model wrote
    /// about the wrong thing. Keywords contained in this one (or containing it) do not count.
    func otherSubject(_ text: String, keyword: String) -> String? {
        let first = String(text.prefix { $0 != "." && $0 != "\n" && $0 != "。" }).lowercased()
        let own = keyword.lowercased()
        if Self.containsWord(first, own) { return nil }
        for other in allKeywords {
            let lower = other.lowercased()
            guard lower != own, lower.count >= 3, !own.contains(lower), !lower.contains(own) else { continue }
            if Self.containsWord(first, lower) { return other }
        }
        return nil
    }

    static func containsWord(_ text: String, _ word: String) -> Bool {
        var searchRange = text.startIndex..<text.endIndex
        while let range = text.range(of: word, range: searchRange) {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            let boundary = { (c: Character?) in c.map { !($0.isLetter && $0.isASCII) } ?? true }
            if boundary(before) && boundary(after) { return true }
            searchRange = range.upperBound..<text.endIndex
        }
        return false
    }
}

/// Near-duplicate detection by Jaccard similarity of word 3-shingles (character 4-shingles for text without
/// spaces, such as Japanese or Chinese).
public enum NearDuplicate {
    public static func shingles(_ text: String) -> Set<String> {
        let normalized = text.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : " " }
        let words = String(normalized).split(separator: " ").map(String.init)
        if words.count >= 3 {
            return Set((0...(words.count - 3)).map { words[$0..<$0 + 3].joined(separator: " ") })
        }
        let chars = Array(String(normalized).replacingOccurrences(of: " ", with: ""))
        guard chars.count >= 4 else { return [String(chars)] }
        return Set((0...(chars.count - 4)).map { String(chars[$0..<$0 + 4]) })
    }

    public static func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        return Double(a.intersection(b).count) / Double(a.union(b).count)
    }

    public static func similarity(_ a: String, _ b: String) -> Double { jaccard(shingles(a), shingles(b)) }
}
