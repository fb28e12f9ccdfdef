import Dataset
import Foundation

/// The rows of the release's three configs, from the same records as the shards (`ShardSampleBuilder`) and the
/// manifest's questions: `paired` (train images with their texts), `text` (text-only records) and `mcq` (train and
/// test questions, each with its image). Rows whose image the licence policy leaves out are not written.
struct PublishRows {
    let inputs: ShardInputs
    /// Train questions that may train (those the shards carry), by id.
    let trainQuestions: [Question]
    let testQuestions: [Question]
    let images: PublishedImages
    let layout: PublishSection.Layout

    /// The train questions the shards carry: a paired sample (`qa`, its key made of the question's id) or a text
    /// record; the rest (of novel keywords, near duplicates of test images, …) stay out here too.
    static func trainable(_ questions: [Question], inputs: ShardInputs) -> [Question] {
        let keys = Set(inputs.paired.map(\.key)), ids = Set(inputs.text.map(\.id))
        return questions.filter { q in
            keys.contains("p-" + ShardSampleBuilder.shortHash(["qa", q.id])) || ids.contains("t-" + ShardSampleBuilder.shortHash(["qa", q.id]))
        }
    }

    /// Every stored image a row would carry, in row order, with its keyword (what the licence policy weighs).
    static func imageUses(inputs: ShardInputs, train: [Question], test: [Question]) -> [(image: StoredImage, keyword: String, keywordID: Int64?)] {
        var uses: [(StoredImage, String, Int64?)] = inputs.paired.map { ($0.image, $0.keyword, nil) }
        for q in train + test {
            guard let sha = q.imageSHA256, !sha.isEmpty, let image = inputs.images[sha] else { continue }
            uses.append((image, q.keyword ?? "", q.keywordID))
        }
        return uses
    }

    // MARK: Columns

    static let messages = PublishColumnType.list(.structure([PublishColumn("role", .string), PublishColumn("content", .string)]))
    static let credit = [PublishColumn("author", .string, "the image's author"),
                         PublishColumn("license", .string, "the image's licence id (cc-by, cc-by-sa, cc0, …)"),
                         PublishColumn("source_page", .string, "the page the image was found on")]

    static let pairedSampleColumns: [PublishColumn] = [
        PublishColumn("key", .string, "stable sample key (the paired shards' `__key__`)"),
        PublishColumn("kind", .string, "caption, description or qa"),
        PublishColumn("keyword", .string), PublishColumn("category", .string), PublishColumn("aspect", .string),
        PublishColumn("language", .string), PublishColumn("text", .string, "the target text"),
        PublishColumn("messages", messages, "the chat turns (user, assistant)"),
        PublishColumn("image", .image, "the image, upright, in the dataset's one format"),
        PublishColumn("image_sha256", .string, "the stored image's sha256 (what the manifest and ATTRIBUTION.csv name it by)"),
    ] + credit

    static let pairedImageColumns: [PublishColumn] = [
        PublishColumn("image_sha256", .string, "the stored image's sha256"),
        PublishColumn("image", .image, "the image, upright, in the dataset's one format"),
        PublishColumn("keyword", .string), PublishColumn("category", .string),
        PublishColumn("caption", .string, "the caption sample's text"),
        PublishColumn("descriptions", .list(.structure([PublishColumn("aspect", .string), PublishColumn("language", .string),
                                                        PublishColumn("mode", .string), PublishColumn("text", .string)])),
                      "every description of the image, per aspect"),
        PublishColumn("questions", .list(.structure([PublishColumn("id", .string), PublishColumn("question", .string),
                                                     PublishColumn("options", .list(.string)), PublishColumn("answer", .string)])),
                      "the train questions on the image (answer is a letter)"),
    ] + credit

    static let textColumns: [PublishColumn] = [
        PublishColumn("id", .string, "stable record id"), PublishColumn("kind", .string, "description or qa"),
        PublishColumn("keyword", .string), PublishColumn("category", .string), PublishColumn("aspect", .string),
        PublishColumn("language", .string), PublishColumn("text", .string), PublishColumn("messages", messages),
    ]

    static let mcqColumns: [PublishColumn] = [
        PublishColumn("id", .string, "the question's id (stable)"), PublishColumn("type", .int64, "1 recognition, 2 reasoning"),
        PublishColumn("keyword", .string), PublishColumn("category", .string), PublishColumn("aspect", .string),
        PublishColumn("question", .string), PublishColumn("options", .list(.string)),
        PublishColumn("answer", .string, "the correct option's letter"), PublishColumn("answer_index", .int64, "0-based"),
        PublishColumn("image", .image, "the image the question is asked on"), PublishColumn("image_sha256", .string),
    ]

    // MARK: Tables

    func tables() -> [PublishTable] {
        [paired(), text(), mcq()]
    }

    private func creditFields(_ sha: String) -> [String: Any] {
        let entry = images.byHash[sha]
        return ["author": entry?.origin?.author ?? NSNull(), "license": entry?.terms.id ?? NSNull(), "source_page": entry?.origin?.pageURL ?? NSNull()]
    }

    private func paired() -> PublishTable {
        switch layout {
        case .perSample:
            var rows: [PublishRow] = []
            for s in inputs.paired {
                guard let image = images.value(s.image.sha) else { continue }
                var object: [String: Any] = [
                    "key": s.key, "kind": s.kind, "keyword": s.keyword, "category": s.category ?? NSNull(), "aspect": s.aspect ?? NSNull(),
                    "language": s.language, "text": s.text, "messages": s.messages.map { ["role": $0.role, "content": $0.content] },
                    "image": image, "image_sha256": s.image.sha,
                ]
                object.merge(creditFields(s.image.sha)) { a, _ in a }
                rows.append(PublishRow(object: object, bytes: s.image.bytes + s.text.utf8.count + 512))
            }
            return PublishTable(config: "paired", columns: Self.pairedSampleColumns, splits: [("train", rows)],
                                rowMeaning: "one (image, text) training sample: a caption, a description or a question")
        case .perImage:
            let questions = Dictionary(trainQuestions.map { ("p-" + ShardSampleBuilder.shortHash(["qa", $0.id]), $0) }, uniquingKeysWith: { a, _ in a })
            struct Group { var first: PairedSample; var caption: String?; var descriptions: [[String: Any]] = []; var questions: [[String: Any]] = [] }
            var groups: [String: Group] = [:]
            for s in inputs.paired where images.allows(s.image.sha) {
                let id = s.image.sha + "\u{1F}" + s.keyword
                var group = groups[id] ?? Group(first: s)
                switch s.kind {
                case "caption": group.caption = group.caption ?? s.text
                case "description":
                    group.descriptions.append(["aspect": s.aspect ?? NSNull(), "language": s.language, "mode": s.provenance.mode ?? NSNull(), "text": s.text])
                default:
                    if let q = questions[s.key] {
                        group.questions.append(["id": q.id, "question": q.question, "options": q.options, "answer": q.answerLetter])
                    }
                }
                groups[id] = group
            }
            var rows: [PublishRow] = []
            for id in groups.keys.sorted() {
                let g = groups[id]!
                guard let image = images.value(g.first.image.sha) else { continue }
                var object: [String: Any] = [
                    "image_sha256": g.first.image.sha, "image": image, "keyword": g.first.keyword, "category": g.first.category ?? NSNull(),
                    "caption": g.caption ?? NSNull(), "descriptions": g.descriptions, "questions": g.questions,
                ]
                object.merge(creditFields(g.first.image.sha)) { a, _ in a }
                rows.append(PublishRow(object: object, bytes: g.first.image.bytes + 4096))
            }
            return PublishTable(config: "paired", columns: Self.pairedImageColumns, splits: [("train", rows)],
                                rowMeaning: "one training image under one keyword, with its caption, every description and its train questions")
        }
    }

    /// Text records written from an image the release leaves out (its licence, or a failed file): a text
    /// grounded on an image is derived from it, so it leaves with it.
    static func leftOutTexts(_ inputs: ShardInputs, images: PublishedImages) -> [TextRecord] {
        inputs.text.filter { r in r.imageSHA256.map { !images.allows($0) } ?? false }
    }

    private func text() -> PublishTable {
        let rows = inputs.text.filter { r in r.imageSHA256.map(images.allows) ?? true }.map { r in
            PublishRow(object: ["id": r.id, "kind": r.kind, "keyword": r.keyword, "category": r.category ?? NSNull(), "aspect": r.aspect ?? NSNull(),
                                "language": r.language, "text": r.text, "messages": r.messages.map { ["role": $0.role, "content": $0.content] }],
                       bytes: r.text.utf8.count + 512)
        }
        return PublishTable(config: "text", columns: Self.textColumns, splits: [("train", rows)],
                            rowMeaning: "one text-only training record (no image, no reference to one)")
    }

    private func mcq() -> PublishTable {
        func rows(_ questions: [Question]) -> [PublishRow] {
            questions.compactMap { q in
                let sha = q.imageSHA256 ?? ""
                var image: Any = NSNull()
                if !sha.isEmpty {
                    guard let value = images.value(sha) else { return nil }  // its image is left out
                    image = value
                }
                return PublishRow(object: ["id": q.id, "type": q.type, "keyword": q.keyword ?? NSNull(), "category": q.category ?? NSNull(),
                                           "aspect": q.aspect ?? NSNull(), "question": q.question, "options": q.options,
                                           "answer": q.answerLetter, "answer_index": q.answer, "image": image,
                                           "image_sha256": sha.isEmpty ? NSNull() : sha],
                                  bytes: (inputs.images[sha]?.bytes ?? 0) + 1024)
            }
        }
        return PublishTable(config: "mcq", columns: Self.mcqColumns, splits: [("train", rows(trainQuestions)), ("test", rows(testQuestions))],
                            rowMeaning: "one multiple-choice question with its image; test holds the held-out images' questions")
    }
}
