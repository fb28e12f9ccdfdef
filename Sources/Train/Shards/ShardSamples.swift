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
    var imageSHA256: String
    var imagePath: String
    var imageFormat: String
    var imageBytes: Int
    var width: Int?
    var height: Int?
    var orientation: Int?

    /// The `.json` member; `width`/`height` are the written image's (after any resize).
    func json(width: Int?, height: Int?, orientationApplied: Bool) -> [String: Any] {
        [
            "key": key, "kind": kind, "keyword": keyword, "category": category ?? NSNull(), "aspect": aspect ?? NSNull(),
            "language": language, "image_sha256": imageSHA256, "width": width ?? NSNull(), "height": height ?? NSNull(),
            "exif_orientation": orientation ?? 1, "orientation_applied": orientationApplied,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "provenance": provenance.json,
        ]
    }
}

/// What the shards are made of, read from the manifest in a stable order.
struct ShardInputs: Sendable {
    var text: [TextRecord]
    var paired: [PairedSample]
    var novelKeywords: [String]
    var excludedTestQuestions: Int
}

/// Reads kept images, accepted descriptions and train-split questions from the manifest and turns them into
/// records. Keys and ids are hashes of what identifies the record, so they are stable across runs.
enum ShardSampleBuilder {
    struct Options: Sendable {
        var novelFraction: Double = 0
        var seed: Int = 0
    }

    private struct Kept {
        var sha: String
        var keywordID: Int64
        var keyword: String
        var category: String?
        var path: String
        var format: String
        var bytes: Int
        var width: Int?
        var height: Int?
        var orientation: Int?
        var provenance: Provenance
    }

    static func build(_ manifest: Manifest, options: Options) throws -> ShardInputs {
        try manifest.read { db in try build(db, options: options) }
    }

    static func build(_ db: Database, options: Options) throws -> ShardInputs {
        // Keywords and the novel (held-out) ones.
        var keywords: [Int64: (text: String, category: String?, language: String?)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, text, category, language FROM keywords ORDER BY text") {
            keywords[row["id"]] = (row["text"], row["category"], row["language"])
        }
        let novel = novelKeywords(Array(keywords.values.map(\.text)), fraction: options.novelFraction, seed: options.seed)

        // Kept (image, keyword) pairs: every decision recorded for the pair passed.
        let keptRows = try Row.fetchAll(db, sql: """
            WITH kept AS (
                SELECT image_sha256 AS sha, keyword_id AS kid FROM filter_decisions
                 GROUP BY image_sha256, keyword_id HAVING MIN(pass) = 1
            )
            SELECT kept.sha, kept.kid, i.path, i.format, i.bytes,
                   COALESCE(i.display_width, i.width) AS w, COALESCE(i.display_height, i.height) AS h, i.orientation,
                   i.rights
              FROM kept JOIN images i ON i.sha256 = kept.sha
             ORDER BY kept.kid, kept.sha
            """)
        // Where each image came from: its first successful download's candidate, preferring the same keyword's.
        var sources: [String: [(kid: Int64, prov: Provenance)]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT dl.image_sha256 AS sha, c.keyword_id AS kid, c.source, c.license, c.author, c.page_url
              FROM downloads dl JOIN candidates c ON c.id = dl.candidate_id
             WHERE dl.status = 'ok' AND dl.image_sha256 IS NOT NULL ORDER BY c.keyword_id, c.source, c.rank, c.source_id
            """) {
            var p = Provenance()
            p.source = row["source"]
            p.license = row["license"]
            p.author = row["author"]
            p.pageURL = row["page_url"]
            sources[row["sha"], default: []].append((row["kid"], p))
        }
        var kept: [String: Kept] = [:]  // "sha|kid"
        var keptByKeyword: [Int64: [Kept]] = [:]
        for row in keptRows {
            let kid: Int64 = row["kid"]
            guard let kw = keywords[kid], !novel.contains(kw.text) else { continue }
            var prov = Provenance()
            let candidates = sources[row["sha"] as String] ?? []
            if let p = candidates.first(where: { $0.kid == kid }) ?? candidates.first {
                prov = p.prov
            } else {
                let rights = JSONText.decodeStringMap(row["rights"])
                prov.source = rights["source"]
                prov.license = rights["license"]
                prov.author = rights["author"]
                prov.pageURL = rights["page_url"]
            }
            let item = Kept(sha: row["sha"], keywordID: kid, keyword: kw.text, category: kw.category, path: row["path"],
                            format: ImageFormatName.normalized(row["format"] ?? "jpg"), bytes: row["bytes"],
                            width: row["w"], height: row["h"], orientation: row["orientation"], provenance: prov)
            kept["\(item.sha)|\(kid)"] = item
            keptByKeyword[kid, default: []].append(item)
        }

        var text: [TextRecord] = []
        var paired: [PairedSample] = []

        // Captions: one per kept pair.
        for item in keptRows.compactMap({ kept["\($0["sha"] as String)|\($0["kid"] as Int64)"] }) {
            let caption = ChatTemplates.fill(ChatTemplates.captionAssistant, keyword: item.keyword)
            paired.append(sample(item, kind: "caption", idParts: ["caption", item.sha, "\(item.keywordID)"],
                                 aspect: "visual", language: keywords[item.keywordID]?.language ?? "en", text: caption,
                                 messages: [("user", ChatTemplates.captionUser), ("assistant", caption)], provenance: item.provenance))
        }

        // Descriptions: text-only records for all accepted ones whose image (if any) is kept; paired samples with
        // their own image, or — for keyword-level descriptions — the keyword's first kept image.
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
                image = keptByKeyword[kid]?.first
            } else {
                guard let k = kept["\(sha)|\(kid)"] else { continue }  // its image was dropped
                image = k
            }
            let aspect: String = row["aspect"]
            let language: String = row["language"]
            let body: String = row["text"]
            var prov = image?.provenance ?? Provenance()
            if sha.isEmpty && image == nil { prov = Provenance() }
            prov.model = row["model"]
            prov.templateSHA256 = row["template_sha256"]
            prov.mode = row["mode"]
            // Identified by the description's natural key, not its row id (ids depend on the order replies arrived),
            // so a resumed run writes the same keys as an uninterrupted one.
            let ident: [String] = ["description", kw.text, sha, aspect, row["mode"] as String, language,
                                   "\(row["variant"] as Int)", row["template_sha256"] as String, row["model"] as String]
            var textProv = prov
            if sha.isEmpty { textProv.source = nil; textProv.license = nil; textProv.author = nil; textProv.pageURL = nil }
            let userText = ChatTemplates.fill(ChatTemplates.describeText[aspect] ?? ChatTemplates.describeTextDefault, keyword: kw.text)
            text.append(TextRecord(id: "t-" + shortHash(ident), kind: "description", keyword: kw.text, category: kw.category,
                                   aspect: aspect, language: language, text: body,
                                   messages: [("user", userText), ("assistant", body)], provenance: textProv))
            if let image {
                let userImage = ChatTemplates.fill(ChatTemplates.describeImage[aspect] ?? ChatTemplates.describeImageDefault, keyword: kw.text)
                paired.append(sample(image, kind: "description", idParts: ident + [image.sha], aspect: aspect, language: language,
                                     text: body, messages: [("user", userImage), ("assistant", body)], provenance: prov))
            }
        }

        // Questions: train split only; test questions are for eval.
        let excluded = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE status = 'accepted' AND split != 'train'") ?? 0
        let questions = try Row.fetchAll(db, sql: """
            SELECT id, keyword_id, image_sha256, type, question, options, answer, aspect, category, model, template_sha256
              FROM questions WHERE status = 'accepted' AND split = 'train' ORDER BY id
            """)
        for row in questions {
            let kid: Int64? = row["keyword_id"]
            let kw = kid.flatMap { keywords[$0] }
            if let kw, novel.contains(kw.text) { continue }
            guard let options = JSONText.decode([String].self, from: row["options"]), !options.isEmpty,
                  options.count <= ChatTemplates.letters.count else { continue }
            let answer: Int = row["answer"]
            guard options.indices.contains(answer) else { continue }
            let prompt = ChatTemplates.mcqPrompt(question: row["question"], options: options)
            let letter = ChatTemplates.letters[answer]
            let type: Int = row["type"]
            let sha: String = row["image_sha256"]
            let image = kid.flatMap { kept["\(sha)|\($0)"] }
            var prov = image?.provenance ?? Provenance()
            prov.model = row["model"]
            prov.templateSHA256 = row["template_sha256"]
            prov.mode = sha.isEmpty ? "text-only" : "image-grounded"
            var textProv = prov
            textProv.source = nil; textProv.license = nil; textProv.author = nil; textProv.pageURL = nil
            let qid: String = row["id"]
            let category: String? = row["category"] ?? kw?.category
            let aspect: String = row["aspect"] ?? (type == 1 ? "recognition" : "reasoning")
            let language = kw?.language ?? "en"
            text.append(TextRecord(id: "t-" + shortHash(["qa", qid]), kind: "qa", keyword: kw?.text ?? "", category: category,
                                   aspect: aspect, language: language, text: "\(letter). \(options[answer])",
                                   messages: [("user", prompt), ("assistant", letter)], provenance: textProv))
            if let image {
                paired.append(sample(image, kind: "qa", idParts: ["qa", qid], aspect: aspect, language: language,
                                     text: "\(letter). \(options[answer])", messages: [("user", prompt), ("assistant", letter)],
                                     provenance: prov))
            }
        }

        text.sort { $0.id < $1.id }
        paired.sort { $0.key < $1.key }
        return ShardInputs(text: text, paired: paired, novelKeywords: novel.sorted(), excludedTestQuestions: excluded)
    }

    private static func sample(_ image: Kept, kind: String, idParts: [String], aspect: String?, language: String, text: String,
                               messages: [(String, String)], provenance: Provenance) -> PairedSample {
        PairedSample(key: "p-" + shortHash(idParts), kind: kind, keyword: image.keyword, category: image.category, aspect: aspect,
                     language: language, text: text, messages: messages.map { (role: $0.0, content: $0.1) }, provenance: provenance,
                     imageSHA256: image.sha, imagePath: image.path, imageFormat: image.format, imageBytes: image.bytes,
                     width: image.width, height: image.height, orientation: image.orientation)
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
