import Dataset
import Foundation
import GRDB

/// Reads kept images, accepted descriptions and train-split questions from the manifest and turns them into
/// records. Keys and ids are hashes of what identifies the record, so they are stable across runs.
///
/// Nothing derived from a test image enters a record: the split is read through `SplitMap` (newly kept pairs
/// are placed first, with the stored split's own settings); an image within the duplicate rule's pHash distance
/// of a test image counts as one. Text-only records carry no question that refers to an image.
///
/// Records are built a page of keywords at a time (`stream`): a page's kept pairs, their images and provenance,
/// split rows, descriptions and questions are read with keyword-scoped queries and handed to a sink, then
/// dropped. Every record depends only on its own keyword's rows and on small global state held for the whole
/// run (the keyword table, the keyword splits, the set of test images with their pHashes, the near duplicates
/// of test images), so the records do not depend on how keywords are paged; only their order of arrival does,
/// which the consumer sorts away (ids and keys are unique).
enum ShardSampleBuilder {
    struct Options: Sendable {
        var novelFraction: Double = 0
        var seed: Int = 0
        /// Used only when the workspace has no stored split yet (the recipe's `mcq.*` split keys).
        var split = SplitSettings()
        /// `filter.duplicates.phash_distance`.
        var phashDistance = 8
        /// Images whose embeddings meet a test image's at this cosine are held out with it (nil: no embedding model).
        var semantic: SemanticMatch?
        /// Keywords are read in pages of about this many kept pairs (a keyword is never cut in two).
        var pagePairs = 4096
    }

    /// What a stream found besides its records.
    struct Totals: Sendable {
        var novelKeywords: [String]
        var excludedTestQuestions: Int
        var exclusions: Exclusions
        /// The split settings actually applied (the stored split's).
        var split: SplitSettings
    }

    /// The records of one page of keywords, in the order they were built.
    struct Page {
        var text: [TextRecord] = []
        var paired: [PairedSample] = []

        /// The page with every text a reader sees placeholder-free (`ImageReference.neutralised`): a `<image>` a
        /// description or question writes never becomes an image tag in a shard or an export.
        func neutralised() -> Page {
            let n = ImageReference.neutralised
            var out = self
            for i in out.text.indices {
                out.text[i].text = n(out.text[i].text)
                out.text[i].messages = out.text[i].messages.map { (role: $0.role, content: n($0.content)) }
            }
            for i in out.paired.indices {
                out.paired[i].text = n(out.paired[i].text)
                out.paired[i].messages = out.paired[i].messages.map { (role: $0.role, content: n($0.content)) }
            }
            return out
        }
    }

    private struct Kept {
        var keywordID: Int64
        var keyword: String
        var category: String?
        var image: StoredImage
        var provenance: Provenance
    }

    private struct KeywordInfo {
        var text: String
        var category: String?
        var language: String?
    }

    /// The run-wide state every page reads: small (keywords, keyword splits, test images, near duplicates).
    private struct Shared {
        var keywords: [Int64: KeywordInfo]
        var novel: Set<String>
        var map: SplitMap
        var heldOut: HeldOutImages
    }

    /// Places newly kept pairs (with the stored split's settings), then builds every record, handing each page's
    /// records to `sink` (in one read transaction: one snapshot of the manifest).
    static func stream(_ manifest: Manifest, options: Options, sink: (Page) throws -> Void) throws -> Totals {
        let applied = try manifest.write { db -> SplitSettings in
            let settings = try ExperimentSplit.storedSettings(in: db) ?? options.split
            try ExperimentSplit.assign(settings, in: db)
            return settings
        }
        let root = manifest.path.deletingLastPathComponent()
        return try manifest.read { db in try stream(db, options: options, split: applied, workspaceRoot: root, sink: sink) }
    }

    /// Every record at once, sorted by id (text) and key (paired), with every stored image by hash: what the
    /// exports read (they are written whole; the shards stream).
    static func build(_ manifest: Manifest, options: Options) throws -> ShardInputs {
        var text: [TextRecord] = []
        var paired: [PairedSample] = []
        let totals = try stream(manifest, options: options) { page in
            text += page.text
            paired += page.paired
        }
        text.sort { $0.id < $1.id }
        paired.sort { $0.key < $1.key }
        let images = try manifest.read { db in try StoredImage.all(in: db) }
        return ShardInputs(text: text, paired: paired, novelKeywords: totals.novelKeywords,
                           excludedTestQuestions: totals.excludedTestQuestions, exclusions: totals.exclusions,
                           split: totals.split, images: images)
    }

    static func stream(_ db: Database, options: Options, split: SplitSettings, workspaceRoot: URL,
                       sink: (Page) throws -> Void) throws -> Totals {
        // Keywords and the novel (held-out) ones.
        var keywords: [Int64: KeywordInfo] = [:]
        var ids: [Int64] = []
        for row in try Row.fetchAll(db, sql: "SELECT id, text, category, language FROM keywords ORDER BY id") {
            keywords[row["id"]] = KeywordInfo(text: row["text"], category: row["category"], language: row["language"])
            ids.append(row["id"])
        }
        let novel = novelKeywords(keywords.values.map(\.text), fraction: options.novelFraction, seed: options.seed)
        let map = try SplitMap.loadWithoutPairs(in: db)
        let semantic = try options.semantic.flatMap { match in
            try EmbeddingVectors.load(match.model, workspaceRoot: workspaceRoot, in: db).map { HeldOutImages.Semantic(vectors: $0, threshold: match.threshold) }
        }
        let heldOut = try HeldOutImages.find(in: db, testImages: map.testImages, distance: options.phashDistance, semantic: semantic)
        let shared = Shared(keywords: keywords, novel: novel, map: map, heldOut: heldOut)

        var exclusions = Exclusions()
        exclusions.testImages = heldOut.testImages
        exclusions.nearDuplicatesOfTest = heldOut.nearDuplicatesOfTest.count
        exclusions.semanticDuplicatesOfTest = semantic == nil ? nil : heldOut.semanticOnly

        // Pages of whole keywords, about `pagePairs` kept pairs each.
        let sizes = try KeptPairs.countsByKeyword(in: db)
        var page: [Int64] = []
        var pairs = 0
        for id in ids {
            let size = sizes[id] ?? 0
            if !page.isEmpty && pairs + size > options.pagePairs {
                try sink(build(page: page, shared: shared, exclusions: &exclusions, in: db).neutralised())
                page = []
                pairs = 0
            }
            page.append(id)
            pairs += size
        }
        if !page.isEmpty { try sink(build(page: page, shared: shared, exclusions: &exclusions, in: db).neutralised()) }
        // Questions of no keyword (or of a keyword row that is gone).
        try sink(build(page: nil, shared: shared, exclusions: &exclusions, in: db).neutralised())

        let excluded = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE status = 'accepted' AND split != 'train'") ?? 0
        return Totals(novelKeywords: novel.sorted(), excludedTestQuestions: excluded, exclusions: exclusions, split: split)
    }

    /// The records of the keywords `page` (nil: the questions linked to no keyword row).
    private static func build(page: [Int64]?, shared: Shared, exclusions: inout Exclusions, in db: Database) throws -> Page {
        let keywords = shared.keywords, novel = shared.novel
        let keywordIDs = page ?? []
        let map = try shared.map.withPairs(of: keywordIDs, in: db)
        let nearTest = shared.heldOut.nearDuplicatesOfTest
        func exclude(_ reason: String) { exclusions.records[reason, default: 0] += 1 }
        /// Why text or pixels of this pair may not train (nil: they may).
        func refusal(sha: String, keywordID: Int64) -> String? {
            if !map.mayTrain(keyword: keywordID) { return "test_keyword" }
            if map.testImages.contains(sha) { return "test_image" }
            if nearTest.contains(sha) { return "near_duplicate_of_test" }
            return map.mayTrain(image: sha, keyword: keywordID) ? nil : "test_image"
        }

        // Kept (image, keyword) pairs of the page: the one definition, the `kept_pairs` view.
        let keptPairs = try KeptPairs.pairs(of: keywordIDs, in: db)
        let images = try StoredImage.kept(under: keywordIDs, in: db)
        // Where each image came from (the one provenance query).
        let origins = try ImageProvenance.load(in: db, imagesKeptUnder: keywordIDs)

        // Kept pairs that may train, by pair and per keyword (hash order).
        var kept: [KeywordImage: Kept] = [:]
        var keptByKeyword: [Int64: [Kept]] = [:]
        var keptAny: Set<KeywordImage> = []  // every kept pair, trainable or not
        for pair in keptPairs {
            let kid = pair.keywordID
            guard let kw = keywords[kid], !novel.contains(kw.text), let image = images[pair.sha256] else { continue }
            keptAny.insert(pair)
            if let reason = refusal(sha: pair.sha256, keywordID: kid) {
                exclude(reason)  // its caption
                continue
            }
            var prov = Provenance()
            if let origin = origins.origin(of: pair.sha256, keywordID: kid) {
                prov.source = origin.source
                prov.license = origin.license
                prov.author = origin.author
                prov.pageURL = origin.pageURL
                prov.imageURL = origin.imageURL.flatMap { $0.hasPrefix("http://") || $0.hasPrefix("https://") ? $0 : nil }
            }
            let item = Kept(keywordID: kid, keyword: kw.text, category: kw.category, image: image, provenance: prov)
            kept[pair] = item
            keptByKeyword[kid, default: []].append(item)
        }

        var out = Page()

        // Captions: one per trainable kept pair.
        for pair in keptPairs {
            guard let item = kept[pair] else { continue }
            let caption = ChatTemplates.fill(ChatTemplates.captionAssistant, keyword: item.keyword)
            out.paired.append(sample(item, kind: "caption", idParts: ["caption", item.image.sha, "\(item.keywordID)"],
                                     aspect: "visual", language: keywords[item.keywordID]?.language ?? "en", text: caption,
                                     messages: [("user", ChatTemplates.captionUser), ("assistant", caption)], provenance: item.provenance))
        }

        // Descriptions: image-grounded ones of trainable images (text record + paired with their image);
        // keyword-level ones of keywords that may train (text record + paired with the keyword's first train image).
        let descriptions = keywordIDs.isEmpty ? [] : try Row.fetchAll(db, sql: """
            SELECT id, keyword_id, image_sha256, aspect, mode, language, variant, template_sha256, model, text
              FROM descriptions WHERE status = 'accepted' AND text IS NOT NULL AND keyword_id IN (\(KeptPairs.placeholders(keywordIDs.count)))
             ORDER BY keyword_id, image_sha256, aspect, mode, language, variant, template_sha256, model
            """, arguments: StatementArguments(keywordIDs))
        for row in descriptions {
            let kid: Int64 = row["keyword_id"]
            guard let kw = keywords[kid], !novel.contains(kw.text) else { continue }
            let sha: String = row["image_sha256"]
            let image: Kept?
            if sha.isEmpty {
                guard map.mayTrain(keyword: kid) else { exclude("test_keyword"); continue }
                image = keptByKeyword[kid]?.first
            } else {
                guard keptAny.contains(KeywordImage(keywordID: kid, sha256: sha)) else { continue }  // its image was dropped
                if let reason = refusal(sha: sha, keywordID: kid) { exclude(reason); continue }
                image = kept[KeywordImage(keywordID: kid, sha256: sha)]
            }
            let aspect: String = row["aspect"]
            let language: String = row["language"]
            let body: String = row["text"]
            var prov = image?.provenance ?? Provenance()
            prov.model = row["model"]
            prov.templateSHA256 = row["template_sha256"]
            prov.mode = row["mode"]
            // Identified by the description's natural key, not its row id (ids depend on the order replies arrived),
            // so a resumed run writes the same keys as an uninterrupted one.
            let ident: [String] = ["description", kw.text, sha, aspect, row["mode"] as String, language,
                                   "\(row["variant"] as Int)", row["template_sha256"] as String, row["model"] as String]
            var textProv = prov
            if sha.isEmpty { textProv.source = nil; textProv.license = nil; textProv.author = nil; textProv.pageURL = nil; textProv.imageURL = nil }
            let userText = ChatTemplates.fill(ChatTemplates.describeText(aspect), keyword: kw.text)
            out.text.append(TextRecord(id: "t-" + shortHash(ident), kind: "description", keyword: kw.text, category: kw.category,
                                       aspect: aspect, language: language, text: body,
                                       messages: [("user", userText), ("assistant", body)], provenance: textProv,
                                       imageSHA256: sha.isEmpty ? nil : sha))
            if let image {
                let userImage = ChatTemplates.fill(ChatTemplates.describeImage(aspect), keyword: kw.text)
                var paired = sample(image, kind: "description", idParts: ident + [image.image.sha], aspect: aspect, language: language,
                                    text: body, messages: [("user", userImage), ("assistant", body)], provenance: prov)
                paired.imageGrounded = !sha.isEmpty
                out.paired.append(paired)
            }
        }

        // Questions: train split only; test questions are for eval. A question linked to an image that may not
        // train is left out everywhere; Type 1 (recognition: "what is in this image?") and any Type 2 whose stem
        // refers to an image go only into paired samples, never into text-only records.
        var request = QuestionRow.filter(QuestionRow.Columns.status == "accepted" && QuestionRow.Columns.split == "train")
        if page != nil {
            guard !keywordIDs.isEmpty else { return out }
            request = request.filter(keywordIDs.contains(QuestionRow.Columns.keywordID))
        } else {
            request = request.filter(sql: "keyword_id IS NULL OR keyword_id NOT IN (SELECT id FROM keywords)")
        }
        let questions = try request.order(QuestionRow.Columns.id).fetchAll(db).map(\.question)
        for q in questions {
            let kid = q.keywordID
            let kw = kid.flatMap { keywords[$0] }
            if let kw, novel.contains(kw.text) { continue }
            let options = q.options, answer = q.answer
            guard !options.isEmpty, options.count <= ChatTemplates.letters.count, options.indices.contains(answer) else { continue }
            let sha = q.imageSHA256 ?? ""
            if let kid, !map.mayTrain(keyword: kid) { exclude("test_keyword"); continue }
            if !sha.isEmpty {
                if map.testImages.contains(sha) { exclude("test_image"); continue }
                if nearTest.contains(sha) { exclude("near_duplicate_of_test"); continue }
                if let kid, keptAny.contains(KeywordImage(keywordID: kid, sha256: sha)), let reason = refusal(sha: sha, keywordID: kid) { exclude(reason); continue }
            }
            let prompt = q.prompt
            let letter = q.answerLetter
            let type = q.type
            let image = kid.flatMap { kept[KeywordImage(keywordID: $0, sha256: sha)] }
            var prov = image?.provenance ?? Provenance()
            prov.model = q.model
            prov.templateSHA256 = q.templateSHA256
            prov.mode = sha.isEmpty ? "text-only" : "image-grounded"
            var textProv = prov
            textProv.source = nil; textProv.license = nil; textProv.author = nil; textProv.pageURL = nil; textProv.imageURL = nil
            let qid = q.id
            let category = q.category ?? kw?.category
            let aspect = q.aspect ?? (type == 1 ? "recognition" : "reasoning")
            let language = kw?.language ?? "en"
            if type == 1 {
                exclude("type1_text_only")
            } else if ImageReference.refersToImage(prompt) {  // the stem and its options, as `check` reads the record
                exclude("image_reference_text_only")
            } else {
                out.text.append(TextRecord(id: "t-" + shortHash(["qa", qid]), kind: "qa", keyword: kw?.text ?? "", category: category,
                                           aspect: aspect, language: language, text: "\(letter). \(options[answer])",
                                           messages: [("user", prompt), ("assistant", letter)], provenance: textProv,
                                           imageSHA256: sha.isEmpty ? nil : sha))
            }
            if let image {
                out.paired.append(sample(image, kind: "qa", idParts: ["qa", qid], aspect: aspect, language: language,
                                         text: "\(letter). \(options[answer])", messages: [("user", prompt), ("assistant", letter)],
                                         provenance: prov))
            }
        }
        return out
    }

    private static func sample(_ item: Kept, kind: String, idParts: [String], aspect: String?, language: String, text: String,
                               messages: [(String, String)], provenance: Provenance) -> PairedSample {
        PairedSample(key: "p-" + shortHash(idParts), kind: kind, keyword: item.keyword, category: item.category, aspect: aspect,
                     language: language, text: text, messages: messages.map { (role: $0.0, content: $0.1) }, provenance: provenance,
                     image: item.image)
    }

    static func shortHash(_ parts: [String]) -> String {
        String(ContentHash.sha256Hex(parts.joined(separator: "\u{1F}")).prefix(16))
    }

    /// Whole keywords held out as novel classes: the first `round(fraction × n)` by a seeded hash order.
    static func novelKeywords(_ keywords: [String], fraction: Double, seed: Int) -> Set<String> {
        guard fraction > 0, !keywords.isEmpty else { return [] }
        let count = min(keywords.count, Int((fraction * Double(keywords.count)).rounded()))
        let ordered = keywords.sorted { ContentHash.sha256Hex("\(seed):\($0)") < ContentHash.sha256Hex("\(seed):\($1)") }
        return Set(ordered.prefix(count))
    }
}
