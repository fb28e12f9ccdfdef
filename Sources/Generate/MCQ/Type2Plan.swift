import Dataset
import Foundation
import GRDB

/// Which Type 2 questions a workspace calls for, decided before any is written: per keyword and variant, its
/// split, the image it is asked with, and the descriptions its prompt may use.
///
/// - Split. Design `image`: a seeded draw per question id against `test_fraction`, but a keyword without a
///   held-out image gets only train questions. Design `keyword`: the keyword's split.
/// - Image. A test question is linked to a held-out image of its keyword: the one a description it is written
///   from was grounded on, when that is a test image, else the first of `SplitMap.testImages(of:)`. A train
///   question is linked to a training image of its keyword.
/// - Descriptions. A train question is written only from descriptions that may train (text-only ones of a
///   keyword that may train, image-grounded ones of training images): nothing derived from a held-out image
///   enters training through a question.
public struct Type2Plan: Sendable {
    /// Every planned question, stored or not.
    public var items: [Type2Stage.Item] = []
    /// The planned questions with no accepted, rejected or disputed row for the current model and template.
    public var pending: [Type2Stage.Item] = []
    /// Questions that cannot be planned, one line each (keyword, variant and why).
    public var skipped: [String] = []

    /// How many descriptions a prompt quotes at most.
    public static let descriptionsPerPrompt = 4

    public static func make(settings: MCQSettings, in db: Database) throws -> Type2Plan {
        let map = try SplitMap.load(in: db)
        var done = Set<String>()
        for row in try Row.fetchAll(db, sql: """
            SELECT id, model, template_sha256 FROM questions WHERE type = 2 AND origin = 'generated' AND status IN ('accepted', 'rejected', 'disputed')
            """) where (row["model"] as String?) == settings.model && (row["template_sha256"] as String?) == Type2Stage.templateSHA256(Type2Stage.template(for: settings.llm)) {
            done.insert(row["id"])
        }
        var plan = Type2Plan()
        for keyword in try KeywordStore.all(in: db) {
            let descriptions = try Row.fetchAll(db, sql: """
                SELECT image_sha256, text FROM descriptions WHERE keyword_id = ? AND status = 'accepted' AND text IS NOT NULL
                ORDER BY aspect, mode, image_sha256, language, variant, template_sha256, model
                """, arguments: [keyword.id]).map { (image: $0["image_sha256"] as String, text: $0["text"] as String) }
            guard !descriptions.isEmpty else { continue }
            let testImages = map.testImages(of: keyword.id)
            let trainImages = map.trainImages(of: keyword.id)
            let mayTrain = descriptions.filter {
                $0.image.isEmpty ? map.mayTrain(keyword: keyword.id) : map.mayTrain(image: $0.image, keyword: keyword.id)
            }
            for variant in 0..<max(settings.perKeyword, 1) {
                let id = Type2Stage.Item.id(keywordID: keyword.id, variant: variant)
                let split = Self.split(id: id, keywordID: keyword.id, hasTestImage: !testImages.isEmpty, settings: settings.split, map: map)
                let image: String?
                let texts: [String]
                if split == "test" {
                    let grounded = descriptions.first { testImages.contains($0.image) }?.image
                    image = grounded ?? testImages.first
                    texts = (descriptions.filter { $0.image == image } + descriptions.filter { $0.image != image }).map(\.text)
                } else {
                    image = mayTrain.first { !$0.image.isEmpty }?.image ?? trainImages.first
                    texts = mayTrain.map(\.text)
                }
                guard let image, !texts.isEmpty else {
                    plan.skipped.append("keyword \(keyword.entry.text) (\(id)): no Type 2 question — "
                        + (image == nil ? "no kept \(split) image to ask it with" : "no description that may train"))
                    continue
                }
                let item = Type2Stage.Item(keywordID: keyword.id, keyword: keyword.entry.text, category: keyword.entry.category ?? "item",
                                           variant: variant, split: split, imageSHA256: image,
                                           descriptions: Array(texts.prefix(descriptionsPerPrompt)))
                plan.items.append(item)
                if !done.contains(id) { plan.pending.append(item) }
            }
        }
        return plan
    }

    /// A question's split, drawn before it is written (see the type's comment).
    static func split(id: String, keywordID: Int64, hasTestImage: Bool, settings: SplitSettings, map: SplitMap) -> String {
        switch settings.design {
        case .keyword:
            return map.keywordSplits[keywordID] ?? "train"
        case .image:
            guard hasTestImage else { return "train" }
            var generator = SeededGenerator(text: "type2-split|\(settings.seed)|\(id)")
            return Double(generator.next() >> 11) / Double(1 << 53) < settings.testFraction ? "test" : "train"
        }
    }
}
