import Dataset
import Crypto
import Foundation

/// One multiple-choice question as dsbuild stores it (`questions` table) and writes it (dsbuild JSONL).
public struct MCQuestion: Sendable, Equatable {
    public var id: String
    public var keywordID: Int64?
    public var keyword: String?
    public var imageSHA256: String
    /// 1 = visual recognition, 2 = complex reasoning.
    public var type: Int
    public var question: String
    public var options: [String]
    /// 0-based index of the correct option.
    public var answer: Int
    public var aspect: String?
    public var rationale: String?
    public var category: String?
    public var split: String
    public var origin: String
    public var model: String?
    public var templateSHA256: String?
    /// Fields of an imported record that have no column (kept verbatim as JSON text).
    public var extra: String

    public init(id: String, keywordID: Int64? = nil, keyword: String? = nil, imageSHA256: String = "", type: Int,
                question: String, options: [String], answer: Int, aspect: String? = nil, rationale: String? = nil,
                category: String? = nil, split: String = "train", origin: String = "generated", model: String? = nil,
                templateSHA256: String? = nil, extra: String = "{}") {
        self.id = id
        self.keywordID = keywordID
        self.keyword = keyword
        self.imageSHA256 = imageSHA256
        self.type = type
        self.question = question
        self.options = options
        self.answer = answer
        self.aspect = aspect
        self.rationale = rationale
        self.category = category
        self.split = split
        self.origin = origin
        self.model = model
        self.templateSHA256 = templateSHA256
        self.extra = extra
    }

    public static let letters = QuestionVocabulary.letters

    public var answerLetter: String { Self.letters[answer] }

    /// Moves the options by `permutation` (new position i holds old option permutation[i]).
    public func permuted(_ permutation: [Int]) -> MCQuestion {
        var copy = self
        copy.options = permutation.map { options[$0] }
        copy.answer = permutation.firstIndex(of: answer)!
        return copy
    }
}

/// A small seeded generator (SplitMix64), so shuffles depend only on the seed, never on the platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A seed from text (the question id and the run seed): the first 8 bytes of its sha256.
    public init(text: String) {
        let digest = Array(SHA256.hash(data: Data(text.utf8)))
        state = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
