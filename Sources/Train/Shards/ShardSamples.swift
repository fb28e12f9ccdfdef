import Dataset
import Foundation

/// Provenance of one record: who wrote the text with which template, and where the image came from.
struct Provenance: Sendable {
    var model: String?
    var templateSHA256: String?
    var mode: String?
    var source: String?
    var license: String?
    var author: String?
    var pageURL: String?
    /// The web URL the image was downloaded from (img2dataset's `url`); nil for a local file (its path stays home).
    var imageURL: String?

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
    /// The stored image the text was written from (an image-grounded description, a question linked to an image);
    /// nil for keyword-level text. Not written to the shards' record: exports that split by image read it, and
    /// `publish` leaves the text out with its image when the image's licence does.
    var imageSHA256: String? = nil

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
    /// A description written from this image (not a keyword-level one paired with the keyword's first image).
    /// Not written: the LLaVA pretrain export reads it.
    var imageGrounded = false

    /// The stored image's hash (what `check` and the manifest know the image by).
    var imageSHA256: String { image.sha }

    /// The `.json` member. `width`/`height` are the written image's; `image_sha256` the stored image's,
    /// `written_sha256` that of the bytes in the tar; `exif_orientation` the source's.
    func json(_ rendered: RenderedImage) -> [String: Any] {
        var out = planJSON(reasons: rendered.reasons)
        out["width"] = rendered.width ?? NSNull()
        out["height"] = rendered.height ?? NSNull()
        out["written_sha256"] = rendered.writtenSHA256
        out["sha256"] = rendered.writtenSHA256
        out["image_format"] = rendered.fileExtension
        return out
    }

    /// What is known before the image is rendered: the plan hash is made of it. Besides dsbuild's fields, the
    /// img2dataset ones a reader of its output looks for (`url`, `caption`, `status`, `error_message`,
    /// `original_width`, `original_height`, `exif`); `sha256` (of the written bytes) is added by `json(_:)`.
    func planJSON(reasons: [ReencodeReason]) -> [String: Any] {
        [
            "url": provenance.imageURL ?? NSNull(), "caption": text, "status": "success", "error_message": NSNull(),
            "original_width": image.width ?? NSNull(), "original_height": image.height ?? NSNull(), "exif": image.exif ?? NSNull(),
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
    /// Kept train images within the duplicate rule's pHash distance of a test image, or at the semantic threshold's
    /// cosine with one.
    var nearDuplicatesOfTest = 0
    /// Of those, the ones only their embeddings matched; nil when no embedding model is configured.
    var semanticDuplicatesOfTest: Int?
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
