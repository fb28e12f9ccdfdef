import Dataset
@testable import Filter
import Foundation
import Synchronization
import Testing
import _DSBuildTestSupport

/// A relevance judge that answers from a script and keeps the option lists it was shown.
final class ScriptedRelevanceJudge: RelevanceJudging {
    let answer: @Sendable (_ options: [String]) throws -> RelevanceVerdict
    let shown = Mutex<[[String]]>([])
    let identity = "scripted|v1"

    init(_ answer: @escaping @Sendable (_ options: [String]) throws -> RelevanceVerdict) { self.answer = answer }

    func judge(imageAt url: URL, options: [String], category: String?) async throws -> RelevanceVerdict {
        shown.withLock { $0.append(options) }
        return try answer(options)
    }
}

@Suite struct RelevanceRuleTests {
    typealias T = RuleTesting

    /// Butterflies with taxonomy columns, a moth of the same order, and a keyword of another category.
    static let keywords: [KeywordStore.Stored] = [
        .init(id: 1, entry: KeywordEntry(text: "Monarch", category: "butterfly", extra: ["genus": "Danaus", "family": "Nymphalidae"])),
        .init(id: 2, entry: KeywordEntry(text: "Viceroy", category: "butterfly", extra: ["genus": "Limenitis", "family": "Nymphalidae"])),
        .init(id: 3, entry: KeywordEntry(text: "Queen", category: "butterfly", extra: ["genus": "Danaus", "family": "Nymphalidae"])),
        .init(id: 4, entry: KeywordEntry(text: "Cabbage White", category: "butterfly", extra: ["genus": "Pieris", "family": "Pieridae"])),
        .init(id: 5, entry: KeywordEntry(text: "Monarch Caterpillar", category: "larva", extra: [:])),
        .init(id: 6, entry: KeywordEntry(text: "Hanbok", category: "clothing", extra: [:])),
    ]
    static let siblings = KeywordSiblings(keywords: keywords, taxonomyColumns: RelevanceRule.defaultTaxonomyColumns)

    static func subject(_ sha: Int, keywordID: Int64 = 1, keyword: String = "Monarch") -> FilterSubject {
        FilterSubject(sha256: FilterTests.sha(sha), keywordID: keywordID, keyword: keyword, fileURL: URL(fileURLWithPath: "/nonexistent.jpg"),
                      bytes: 1, probe: T.probe(width: 800, height: 600), urls: [], extra: [:], searchRank: 0)
    }

    @Test func siblingsShareTheMostSpecificTaxonFirstThenTheCategoryThenTheClosestText() {
        // Same genus (Queen), then same family (Viceroy), then same category (Cabbage White), then the most similar
        // text among the rest ("Monarch Caterpillar" shares the word; Hanbok shares nothing).
        #expect(Self.siblings.siblings(of: 1, count: 5) == ["Queen", "Viceroy", "Cabbage White", "Monarch Caterpillar", "Hanbok"])
        #expect(Self.siblings.siblings(of: 1, count: 2) == ["Queen", "Viceroy"])
        // Hanbok shares no taxon, category or trigram with any of them: the keyword text breaks the tie.
        #expect(Self.siblings.siblings(of: 6, count: 2) == ["Cabbage White", "Monarch"])
        #expect(Self.siblings.category(of: 2) == "butterfly")
        // Without taxonomy columns the category decides first.
        let flat = KeywordSiblings(keywords: Self.keywords, taxonomyColumns: [])
        #expect(Set(flat.siblings(of: 1, count: 3)) == ["Queen", "Viceroy", "Cabbage White"])
    }

    @Test func theOptionsAreTheKeywordAndItsSiblingsInASeededOrderThatHidesTheKeywordThenNone() throws {
        let rule = RelevanceRule(judge: ScriptedRelevanceJudge { _ in throw JudgeError(.unavailable, judge: "test", item: "image", detail: "unused") },
                                 siblings: Self.siblings, siblingCount: 3)
        var positions = [Int](repeating: 0, count: 4)
        for sha in 0..<400 {
            let options = rule.options(for: Self.subject(sha))
            #expect(options.count == 5 && options.last == RelevanceConfusions.noneOption)
            #expect(Set(options.dropLast()) == ["Monarch", "Queen", "Viceroy", "Cabbage White"])
            #expect(options == rule.options(for: Self.subject(sha)), "the same image gets the same order (the cached request)")
            positions[try #require(options.firstIndex(of: "Monarch"))] += 1
        }
        // Uniform over the four places: each within 60…140 of 100 (a fixed place would put 400 in one).
        #expect(positions.allSatisfy { (60...140).contains($0) }, "\(positions)")
    }

    /// A keyword stored twice in two Unicode normalisations is not offered beside itself: choosing it would match both.
    @Test func aSiblingThatIsTheKeywordInAnotherNormalisationIsNotOffered() {
        let twins = KeywordSiblings(keywords: [
            .init(id: 1, entry: KeywordEntry(text: "Caf\u{e9}", category: "drink", extra: [:])),
            .init(id: 2, entry: KeywordEntry(text: "Cafe\u{301}", category: "drink", extra: [:])),
            .init(id: 3, entry: KeywordEntry(text: "Tea", category: "drink", extra: [:])),
        ], taxonomyColumns: [])
        let rule = RelevanceRule(judge: ScriptedRelevanceJudge { _ in throw JudgeError(.unavailable, judge: "test", item: "image", detail: "unused") }, siblings: twins)
        let options = rule.options(for: Self.subject(1, keywordID: 1, keyword: "Caf\u{e9}"))
        #expect(options.count == 3 && options.filter { $0 == "Caf\u{e9}" }.count == 1, "\(options.map { Array($0.unicodeScalars) })")
    }

    @Test func keptOnlyWhenShownAsItsKeywordWithEnoughConfidenceAndTheChoiceIsTheValue() async throws {
        func decide(_ choice: String, _ confidence: Double, min: Double = 0.5) async -> RuleDecision {
            let judge = ScriptedRelevanceJudge { _ in RelevanceVerdict(choice: choice, confidence: confidence, reason: "orange wings, black veins") }
            return await RelevanceRule(judge: judge, siblings: Self.siblings, minConfidence: min).decide(Self.subject(7))
        }
        let shown = await decide("Monarch", 0.82)
        #expect(shown.pass && shown.value == "Monarch" && shown.threshold == ">= 0.5")
        #expect(shown.reason == #"shown as "Monarch" (0.82) — orange wings, black veins"#)
        let sibling = await decide("Viceroy", 0.82)
        #expect(!sibling.pass && !sibling.undecided && sibling.value == "Viceroy")
        #expect(sibling.reason.hasPrefix(#"shown as "Viceroy" (0.82), not "Monarch""#), "\(sibling.reason)")
        let unsure = await decide("Monarch", 0.31)
        #expect(!unsure.pass && unsure.value == "Monarch" && unsure.reason.contains("only with confidence 0.31 < 0.5"))
        #expect(await decide("Monarch", 0.31, min: 0.3).pass)
        let none = await decide(RelevanceConfusions.noneOption, 0.9)
        #expect(!none.pass && none.value == RelevanceConfusions.noneOption && none.reason.hasPrefix("shown as none of the keywords (0.90)"))
    }

    @Test func theJudgesWordsAreStoredWithoutAnEchoedCredentialAndAKeywordNamedLikeTheNoneOptionIsRefused() async {
        SecretRedactor.register(secret: "sk-relevance-echo-0123456789")
        let judge = ScriptedRelevanceJudge { _ in RelevanceVerdict(choice: "Monarch", confidence: 0.9, reason: "key sk-relevance-echo-0123456789") }
        let decision = await RelevanceRule(judge: judge, siblings: Self.siblings).decide(Self.subject(3))
        #expect(decision.pass && !decision.reason.contains("sk-relevance-echo-0123456789"), "\(decision.reason)")
        let none = await RelevanceRule(judge: judge, siblings: Self.siblings)
            .decide(Self.subject(3, keywordID: 9, keyword: RelevanceConfusions.noneOption))
        #expect(!none.pass && none.value == "keyword=none_option")
        #expect(judge.shown.withLock { $0.count } == 1, "not asked about the none-option keyword")
    }

    @Test func aJudgeFailureIsNeverADropButAnUnreadableImageIs() async {
        for code in [JudgeError.Code.unavailable, .noVerdict] {
            let rule = RelevanceRule(judge: ScriptedRelevanceJudge { _ in throw JudgeError(code, judge: "test", item: "image", detail: "http 503 / refused") }, siblings: Self.siblings)
            let decision = await rule.decide(Self.subject(1))
            #expect(decision.undecided && !decision.stopsRun && decision.reason.contains("retried on the next filter run"), "\(decision)")
        }
        let stopped = RelevanceRule(judge: ScriptedRelevanceJudge { _ in throw JudgeError(.stopped, judge: "test", item: "image", detail: "insufficient_quota") }, siblings: Self.siblings)
        #expect(await stopped.decide(Self.subject(1)).stopsRun)
        let unreadable = RelevanceRule(judge: ScriptedRelevanceJudge { _ in throw JudgeError(.unreadableImage, judge: "test", item: "image", detail: "truncated") }, siblings: Self.siblings)
        let dropped = await unreadable.decide(Self.subject(1))
        #expect(!dropped.pass && !dropped.undecided && dropped.value == "judge=unreadable_image")
    }

    @Test func offByDefaultOnWithAJudgeAndKeywordsItsKeysCheckedAndItsSettingsInItsHash() throws {
        let judge = ScriptedRelevanceJudge { _ in RelevanceVerdict(choice: "Monarch", confidence: 1, reason: "") }
        #expect(T.rule(RelevanceRule.self, relevance: judge, siblings: Self.siblings) == nil)
        let settings = try T.settings("  relevance:\n    enabled: true\n    siblings: 2\n    min_confidence: 0.7\n    model: judge-model\n    taxonomy_columns: [genus]\n")
        #expect(settings.relevance && settings.relevanceModel == "judge-model")
        #expect(T.rule(RelevanceRule.self, settings) == nil, "no judge wired: no rule")
        let rule = try #require(T.rule(RelevanceRule.self, settings, relevance: judge, siblings: Self.siblings))
        #expect(rule.siblingCount == 2 && rule.minConfidence == 0.7 && rule.taxonomyColumns == ["genus"] && rule.asksModel)
        let other = try #require(T.rule(RelevanceRule.self, try T.settings("  relevance:\n    enabled: true\n    min_confidence: 0.6\n"),
                                        relevance: judge, siblings: Self.siblings))
        #expect(rule.settingsHash != other.settingsHash)
        #expect(T.recipeError("  relevance:\n    min_confidence: 1.5\n")?.key == "filter.relevance.min_confidence")
        #expect(T.recipeError("  relevance:\n    siblings: -1\n")?.key == "filter.relevance.siblings")
    }
}
