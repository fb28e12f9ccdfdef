import Dataset
import Foundation
import GRDB

/// Type 1 (visual recognition) questions: per kept image, "What is the name of the {category} in this image?"
/// with the keyword and 3 sibling keywords of the same category as options. A question's split is its image's
/// (`SplitMap.split(image:keyword:)`): a held-out image's questions are test questions.
public enum Type1Builder {
    struct Keyword {
        let id: Int64
        let text: String
        let category: String
        let taxon: String?
        let description: Set<String>
    }

    /// The rejection of a keyword whose category has fewer than 3 other keywords.
    public static let tooFewSiblings = "too_few_siblings"

    /// Every Type 1 question the kept images call for (stored or not), derived from the seed alone.
    public static func build(settings: MCQSettings, in db: Database) throws -> [(Question, rejection: (String, String)?)] {
        let split = try SplitMap.load(in: db)
        let stored = try KeywordStore.all(in: db)
        var descriptions: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT keyword_id, text FROM descriptions WHERE status = 'accepted' AND text IS NOT NULL ORDER BY id") {
            let id: Int64 = row[0]
            descriptions[id, default: ""] += " " + (row[1] as String)
        }
        let keywords = stored.map { entry in
            Keyword(id: entry.id, text: entry.entry.text, category: entry.entry.category ?? "item",
                    taxon: settings.taxonomyColumn.flatMap { entry.entry.extra[$0] },
                    description: NearDuplicate.shingles(descriptions[entry.id] ?? ""))
        }
        let validator = MCQValidator()
        var out: [(Question, (String, String)?)] = []
        for keyword in keywords {
            let siblings = keywords.filter { $0.category == keyword.category && $0.id != keyword.id }
            for sha in try KeptPairs.images(of: keyword.id, in: db) {
                let questionSplit = split.split(image: sha, keyword: keyword.id) ?? "test"
                var usedSets: [Set<String>] = []
                var usedPositions: [Int] = []
                for n in 0..<max(settings.perImage, 1) {
                    let id = "t1-\(sha.prefix(16))-\(keyword.id)-\(n)"
                    let stem = settings.type1Template.replacingOccurrences(of: "{category}", with: keyword.category.lowercased())
                    var generator = SeededGenerator(text: "\(settings.seed)|\(id)")
                    let pool = ranked(siblings, for: keyword, policy: settings.distractors, generator: &generator)
                    guard pool.count >= 3 else {
                        let q = Question(id: id, type: 1, question: stem, options: [keyword.text], answer: 0, category: keyword.category,
                                         split: questionSplit, origin: "generated", keyword: keyword.text, keywordID: keyword.id,
                                         imageSHA256: sha)
                        out.append((q, (tooFewSiblings, "\(pool.count) other keywords in the category \"\(keyword.category)\"; 3 needed")))
                        break
                    }
                    // Two questions of one image differ in distractors: take the first unused 3-set from the pool
                    // (the most similar for `hard`), widening the window by one sibling per earlier question.
                    var chosen = Array(pool.prefix(3))
                    var window = 3
                    while usedSets.contains(Set(chosen.map(\.text))) && window < pool.count {
                        window += 1
                        chosen = Array(pool.prefix(window).shuffled(using: &generator).prefix(3))
                    }
                    usedSets.append(Set(chosen.map(\.text)))
                    var q = Question(id: id, type: 1, question: stem, options: [keyword.text] + chosen.map(\.text), answer: 0,
                                     category: keyword.category, split: questionSplit, origin: "generated", keyword: keyword.text,
                                     keywordID: keyword.id, imageSHA256: sha, aspect: "identity")
                    q = AnswerBalancer.place(q, seed: settings.seed)
                    if usedPositions.contains(q.answer) {
                        let free = (0..<4).first { !usedPositions.contains($0) } ?? (q.answer + 1) % 4
                        var permutation = Array(0..<4)
                        permutation.swapAt(q.answer, free)
                        q = q.permuted(permutation)
                    }
                    usedPositions.append(q.answer)
                    out.append((q, validator.check(question: q.question, options: q.options, answer: keyword.text,
                                                   keyword: keyword.text, type: 1)))
                }
            }
        }
        return out
    }

    /// Siblings in distractor order: `random` shuffled; `hard` by taxonomy (same taxon first), then by description
    /// similarity to the answer, ties shuffled.
    static func ranked(_ siblings: [Keyword], for answer: Keyword, policy: MCQSettings.Distractors, generator: inout SeededGenerator) -> [Keyword] {
        let shuffled = siblings.shuffled(using: &generator)
        guard policy == .hard else { return shuffled }
        func score(_ k: Keyword) -> Double {
            let taxon = (answer.taxon != nil && k.taxon == answer.taxon) ? 1.0 : 0.0
            return taxon + NearDuplicate.jaccard(answer.description, k.description)
        }
        return shuffled.enumerated().sorted { a, b in
            let (sa, sb) = (score(a.element), score(b.element))
            return sa != sb ? sa > sb : a.offset < b.offset
        }.map(\.element)
    }
}
