import Dataset
import Foundation
import Synchronization

/// The keywords of the dataset an image of one keyword is most easily taken for: the relevance judge's wrong
/// options. Ranked by the most specific taxonomy column the two share (`filter.relevance.taxonomy_columns`, e.g.
/// the same genus before the same family), then the same category, then the most similar text (keyword, search
/// query and a `description` column, compared as sets of character trigrams, so it works in any script), then
/// the keyword text. Each keyword's list is computed once and reused for every image of it.
public final class KeywordSiblings: Sendable {
    struct Entry: Sendable {
        let id: Int64
        let text: String
        let category: String?
        let categoryKey: String?
        /// The keyword's value for each taxonomy column, in the columns' order (nil where it has none).
        let taxonomy: [String?]
        let trigrams: Set<String>
    }

    let entries: [Entry]
    private let index: [Int64: Int]
    private let memo = Mutex<[Int64: [String]]>([:])

    /// - Parameters:
    ///   - keywords: every keyword of the dataset.
    ///   - taxonomyColumns: extra columns naming a taxon, most specific first; matched without regard to case.
    public init(keywords: [KeywordStore.Stored], taxonomyColumns: [String]) {
        let columns = taxonomyColumns.map { $0.lowercased() }
        entries = keywords.map { stored in
            let extra = Dictionary(stored.entry.extra.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            let taxonomy = columns.map { column -> String? in
                guard let value = extra[column]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
                return value.lowercased()
            }
            let text = [stored.entry.text, stored.entry.query ?? "", extra["description"] ?? ""].joined(separator: " ")
            return Entry(id: stored.id, text: stored.entry.text, category: stored.entry.category,
                         categoryKey: stored.entry.category.map { $0.lowercased() }, taxonomy: taxonomy, trigrams: Self.trigrams(text))
        }
        index = Dictionary(entries.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
    }

    /// The keyword's category as the keyword file gave it.
    public func category(of keywordID: Int64) -> String? { index[keywordID].flatMap { entries[$0].category } }

    /// Up to `count` keywords other than `keywordID`, the most confusable first.
    public func siblings(of keywordID: Int64, count: Int) -> [String] {
        if let known = memo.withLock({ $0[keywordID] }) { return Array(known.prefix(count)) }
        guard let position = index[keywordID] else { return [] }
        let me = entries[position]
        let ranked = entries.filter { $0.id != keywordID }.map { other -> (Entry, Int, Int, Double) in
            let shared = me.taxonomy.indices.first { me.taxonomy[$0] != nil && me.taxonomy[$0] == other.taxonomy[$0] } ?? me.taxonomy.count
            let sameCategory = me.categoryKey != nil && me.categoryKey == other.categoryKey ? 0 : 1
            return (other, shared, sameCategory, Self.similarity(me.trigrams, other.trigrams))
        }
        .sorted { a, b in
            if a.1 != b.1 { return a.1 < b.1 }
            if a.2 != b.2 { return a.2 < b.2 }
            if a.3 != b.3 { return a.3 > b.3 }
            return a.0.text < b.0.text
        }
        // Kept for the largest count any image asks (the setting is one value per run).
        let list = ranked.prefix(max(count, 16)).map { $0.0.text }
        memo.withLock { $0[keywordID] = Array(list) }
        return Array(list.prefix(count))
    }

    static func trigrams(_ text: String) -> Set<String> {
        let letters = Array(" " + text.lowercased().precomposedStringWithCanonicalMapping
            .map { $0.isLetter || $0.isNumber ? $0 : " " } + " ")
        guard letters.count >= 3 else { return [] }
        return Set((0...(letters.count - 3)).map { String(letters[$0..<$0 + 3]) }.filter { $0 != "   " })
    }

    static func similarity(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 0 : Double(a.intersection(b).count) / Double(union)
    }
}
