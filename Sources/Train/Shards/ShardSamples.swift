import Dataset
import Foundation
import GRDB

/// Provenance of one record: who wrote the text with which template, and where the image came from.
struct Provenance: Sendable {
    var model: String?
    var templateSHA256: String?
    var mode: String?
    var source: String?
    var license: String?
    var author: String?
    var pageURL: String?

    var json: [String: Any] {
        var out: [String: Any] = ["chat_template_sha256": ChatTemplates.sha256]
        out["model"] = model ?? NSNull()
        out["template_sha256"] = templateSHA256 ?? NSNull()
        out["mode"] = mode ?? NSNull()
        out["source"] = source ?? NSNull()
        out["license"] = license ?? NSNull()
        out["author"] = author ?? NSNull()
        out["page_url"] = pageURL ?? NSNull()
        return out
    }
}

/// One text-only record (`text/NNNNN.jsonl`): never an image, an image path or an `<image>` token.
struct TextRecord: Sendable {
    var id: String
    var kind: String
    var keyword: String
    var category: String?
    var aspect: String?
    var language: String
    var text: String
    var messages: [(role: String, content: String)]
    var provenance: Provenance

    var json: [String: Any] {
        [
            "id": id, "kind": kind, "keyword": keyword, "category": category ?? NSNull(), "aspect": aspect ?? NSNull(),
            "language": language, "text": text,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "provenance": provenance.json,
        ]
    }

    func line() -> Data {
        var data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        data.append(0x0A)
        return data
    }
}

/// One paired sample (`paired/NNNNN.tar`): the image (read when written) and its text.
struct PairedSample: Sendable {
    var key: String
    var kind: String
    var keyword: String
    var category: String?
    var aspect: String?
    var language: String
    var text: String
    var messages: [(role: String, content: String)]
    var provenance: Provenance
    var image: StoredImage

    /// The stored image's hash (what `check` and the manifest know the image by).
    var imageSHA256: String { image.sha }

    /// The `.json` member. `width`/`height` are the written image's; `image_sha256` the stored image's,
    /// `written_sha256` that of the bytes in the tar; `exif_orientation` the source's.
    func json(_ rendered: RenderedImage) -> [String: Any] {
        var out = planJSON(reasons: rendered.reasons)
        out["width"] = rendered.width ?? NSNull()
        out["height"] = rendered.height ?? NSNull()
        out["written_sha256"] = rendered.writtenSHA256
        out["image_format"] = rendered.fileExtension
        return out
    }

    /// What is known before the image is rendered: the plan hash is made of it.
    func planJSON(reasons: [ReencodeReason]) -> [String: Any] {
        [
            "key": key, "kind": kind, "keyword": keyword, "category": category ?? NSNull(), "aspect": aspect ?? NSNull(),
            "language": language, "image_sha256": image.sha, "width": image.width ?? NSNull(), "height": image.height ?? NSNull(),
            "exif_orientation": image.orientation, "orientation_applied": reasons.contains(.orientation),
            "reencoded": reasons.map(\.rawValue),
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "provenance": provenance.json,
        ]
    }
}

/// What was left out of every training artifact, and why (`shards.json` `excluded`).
struct Exclusions: Sendable {
    /// Kept images that are test images (for any keyword).
    var testImages = 0
    /// Kept train images within the duplicate rule's pHash distance of a test image.
    var nearDuplicatesOfTest = 0
    /// Records and samples not written, by reason: `test_image`, `near_duplicate_of_test`, `test_keyword`,
    /// `type1_text_only`, `image_reference_text_only`.
    var records: [String: Int] = [:]
}

/// What the shards are made of, read from the manifest in a stable order.
struct ShardInputs: Sendable {
    var text: [TextRecord]
    var paired: [PairedSample]
    var novelKeywords: [String]
    var excludedTestQuestions: Int
    var exclusions = Exclusions()
    /// The split settings actually applied (the stored split's).
    var split: SplitSettings
    /// Every stored image, by hash (exports look up test questions' images here).
    var images: [String: StoredImage] = [:]
}

/// Reads kept images, accepted descriptions and train-split questions from the manifest and turns them into
/// records. Keys and ids are hashes of what identifies the record, so they are stable across runs.
///
/// Nothing derived from a test image enters a record: the split is read through `SplitMap` (newly kept pairs
/// are placed first, with the stored split's own settings); an image within the duplicate rule's pHash distance
/// of a test image counts as one. Text-only records carry no question that refers to an image.
enum ShardSampleBuilder {
    struct Options: Sendable {
        var novelFraction: Double = 0
        var seed: Int = 0
        /// Used only when the workspace has no stored split yet (the recipe's `mcq.*` split keys).
        var split = SplitSettings()
        /// `filter.duplicates.phash_distance`.
        var phashDistance = 8
    }

    private struct Kept {
        var keywordID: Int64
        var keyword: String
        var category: String?
        var image: StoredImage
        var provenance: Provenance
    }

    static func build(_ manifest: Manifest, options: Options) throws -> ShardInputs {
        let applied = try manifest.write { db -> SplitSettings in
            let settings = try ExperimentSplit.storedSettings(in: db) ?? options.split
            try ExperimentSplit.assign(settings, in: db)
            return settings
        }
        return try manifest.read { db in try build(db, options: options, split: applied) }
    }

    /// The kept images (any keyword) that may not train: test images and their near duplicates.
    static func heldOut(_ db: Database, map: SplitMap, keptShas: Set<String>, distance: Int) throws -> (test: Set<String>, near: Set<String>) {
        let test = keptShas.intersection(map.testImages)
        var exact: [String: UInt64] = [:]
        var fast: [String: UInt64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT sha256, phash, phash_fast FROM images WHERE phash IS NOT NULL OR phash_fast IS NOT NULL") {
            let sha: String = row["sha256"]
            if let h = (row["phash"] as String?).flatMap({ UInt64($0, radix: 16) }) { exact[sha] = h }
            if let h = (row["phash_fast"] as String?).flatMap({ UInt64($0, radix: 16) }) { fast[sha] = h }
        }
        var near: Set<String> = []
        guard distance >= 0 else { return (test, near) }
        let testHashes = map.testImages.sorted().map { (exact[$0], fast[$0]) }
        for sha in keptShas.subtracting(map.testImages) {
            let mine = (exact[sha], fast[sha])
            for (e, f) in testHashes {
                // The imagehash-exact pHash when both have it, else the fast one.
                let d: Int? = if let a = mine.0, let b = e { (a ^ b).nonzeroBitCount }
                    else if let a = mine.1, let b = f { (a ^ b).nonzeroBitCount } else { nil }
                if let d, d <= distance { near.insert(sha); break }
            }
        }
        return (test, near)
    }

    static func build(_ db: Database, options: Options, split: SplitSettings) throws -> ShardInputs {
        // Keywords and the novel (held-out) ones.
        var keywords: [Int64: (text: String, category: String?, language: String?)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, text, category, language FROM keywords ORDER BY text") {
            keywords[row["id"]] = (row["text"], row["category"], row["language"])
        }
        let novel = novelKeywords(Array(keywords.values.map(\.text)), fraction: options.novelFraction, seed: options.seed)
        let map = try SplitMap.load(in: db)
        let images = try StoredImage.all(in: db)

        // Kept (image, keyword) pairs: the one definition, the `kept_pairs` view.
        let keptPairs = try KeptPairs.all(in: db)
        let (testImages, nearTest) = try heldOut(db, map: map, keptShas: Set(keptPairs.map(\.sha256)), distance: options.phashDistance)
        var exclusions = Exclusions()
        exclusions.testImages = testImages.count
        exclusions.nearDuplicatesOfTest = nearTest.count
        func exclude(_ reason: String) { exclusions.records[reason, default: 0] += 1 }
        /// Why text or pixels of this pair may not train (nil: they may).
        func refusal(sha: String, keywordID: Int64) -> String? {
            if !map.mayTrain(keyword: keywordID) { return "test_keyword" }
            if testImages.contains(sha) || map.testImages.contains(sha) { return "test_image" }
            if nearTest.contains(sha) { return "near_duplicate_of_test" }
            return map.mayTrain(image: sha, keyword: keywordID) ? nil : "test_image"
        }

        // Where each image came from (the one provenance query).
        let origins = try ImageProvenance.load(in: db)

        // Kept pairs that may train, by "sha|kid" and per keyword (hash order).
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
            }
            let item = Kept(keywordID: kid, keyword: kw.text, category: kw.category, image: image, provenance: prov)
            kept[pair] = item
            keptByKeyword[kid, default: []].append(item)
        }

        var text: [TextRecord] = []
        var paired: [PairedSample] = []

        // Captions: one per trainable kept pair.
        for pair in keptPairs {
            guard let item = kept[pair] else { continue }
            let caption = ChatTemplates.fill(ChatTemplates.captionAssistant, keyword: item.keyword)
            paired.append(sample(item, kind: "caption", idParts: ["caption", item.image.sha, "\(item.keywordID)"],
                                 aspect: "visual", language: keywords[item.keywordID]?.language ?? "en", text: caption,
                                 messages: [("user", ChatTemplates.captionUser), ("assistant", caption)], provenance: item.provenance))
        }

        // Descriptions: image-grounded ones of trainable images (text record + paired with their image);
        // keyword-level ones of keywords that may train (text record + paired with the keyword's first train image).
        let descriptions = try Row.fetchAll(db, sql: """
            SELECT id, keyword_id, image_sha256, aspect, mode, language, variant, template_sha256, model, text
              FROM descriptions WHERE status = 'accepted' AND text IS NOT NULL
             ORDER BY keyword_id, image_sha256, aspect, mode, language, variant, template_sha256, model
            """)
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
            if sha.isEmpty { textProv.source = nil; textProv.license = nil; textProv.author = nil; textProv.pageURL = nil }
            let userText = ChatTemplates.fill(ChatTemplates.describeText(aspect), keyword: kw.text)
            text.append(TextRecord(id: "t-" + shortHash(ident), kind: "description", keyword: kw.text, category: kw.category,
                                   aspect: aspect, language: language, text: body,
                                   messages: [("user", userText), ("assistant", body)], provenance: textProv))
            if let image {
                let userImage = ChatTemplates.fill(ChatTemplates.describeImage(aspect), keyword: kw.text)
                paired.append(sample(image, kind: "description", idParts: ident + [image.image.sha], aspect: aspect, language: language,
                                     text: body, messages: [("user", userImage), ("assistant", body)], provenance: prov))
            }
        }

        // Questions: train split only; test questions are for eval. A question linked to an image that may not
        // train is left out everywhere; Type 1 (recognition: "what is in this image?") and any Type 2 whose stem
        // refers to an image go only into paired samples, never into text-only records.
        let excluded = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE status = 'accepted' AND split != 'train'") ?? 0
        let questions = try QuestionRow.filter(QuestionRow.Columns.status == "accepted" && QuestionRow.Columns.split == "train")
            .order(QuestionRow.Columns.id).fetchAll(db).map(\.question)
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
            let stem = q.question
            let prompt = q.prompt
            let letter = q.answerLetter
            let type = q.type
            let image = kid.flatMap { kept[KeywordImage(keywordID: $0, sha256: sha)] }
            var prov = image?.provenance ?? Provenance()
            prov.model = q.model
            prov.templateSHA256 = q.templateSHA256
            prov.mode = sha.isEmpty ? "text-only" : "image-grounded"
            var textProv = prov
            textProv.source = nil; textProv.license = nil; textProv.author = nil; textProv.pageURL = nil
            let qid = q.id
            let category = q.category ?? kw?.category
            let aspect = q.aspect ?? (type == 1 ? "recognition" : "reasoning")
            let language = kw?.language ?? "en"
            if type == 1 {
                exclude("type1_text_only")
            } else if ImageReference.refersToImage(stem) {
                exclude("image_reference_text_only")
            } else {
                text.append(TextRecord(id: "t-" + shortHash(["qa", qid]), kind: "qa", keyword: kw?.text ?? "", category: category,
                                       aspect: aspect, language: language, text: "\(letter). \(options[answer])",
                                       messages: [("user", prompt), ("assistant", letter)], provenance: textProv))
            }
            if let image {
                paired.append(sample(image, kind: "qa", idParts: ["qa", qid], aspect: aspect, language: language,
                                     text: "\(letter). \(options[answer])", messages: [("user", prompt), ("assistant", letter)],
                                     provenance: prov))
            }
        }

        text.sort { $0.id < $1.id }
        paired.sort { $0.key < $1.key }
        return ShardInputs(text: text, paired: paired, novelKeywords: novel.sorted(), excludedTestQuestions: excluded,
                           exclusions: exclusions, split: split, images: images)
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

/// Image format names as shard members use them.
enum ImageFormatName {
    static func normalized(_ format: String) -> String {
        switch format.lowercased() {
        case "jpeg", "jpg": "jpg"
        case "png": "png"
        case "webp": "webp"
        default: format.lowercased()
        }
    }
}
