import Dataset
import Foundation

/// `text_only_no_image_refs`: no text-only record (text shards, and the text-only conversations of the training
/// exports) carries an image (an image field, a data URL), an image path, a placeholder token such as `<image>`,
/// or a user turn that refers to an image (`ImageReference`: "this image", "pictured"…) it does not carry.
struct TextOnlyNoImageRefsCheck: WorkspaceCheck {
    let name = "text_only_no_image_refs"
    let rule = "text-only records carry no image, image path, <image> token or question about an image; paired ones one <image> per image at most"

    static let imageKeys: Set<String> = ["image", "images", "image_path", "image_url", "image_bytes", "pixel_values"]

    private static let path = try! NSRegularExpression(
        pattern: #"[A-Za-z0-9_./-]+\.(?:jpe?g|png|webp|gif|bmp|tiff?|heic|avif)\b"#, options: [.caseInsensitive])

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        var out: [CheckViolation] = []
        for record in context.shards.text {
            if let problem = Self.problem(object: record.object, turns: record.messages) {
                out.append(.init(item: record.item, message: problem))
            }
        }
        for conversation in context.exports.conversations {
            let problem = conversation.images.isEmpty ? Self.problem(object: nil, turns: conversation.turns)
                : Self.placeholderProblem(images: conversation.images.count, turns: conversation.turns)
            if let problem { out.append(.init(item: conversation.item, message: problem)) }
        }
        return out
    }

    /// The first way the record shows or asks about an image, or nil.
    static func problem(object: [String: Any]?, turns: [ChatTurn]) -> String? {
        if let object, let key = imageKey(in: object.filter { $0.key != "provenance" }) { return "has an image field `\(key)`" }
        var strings: [String] = []
        // Provenance names where the text came from (a page URL may end in .jpg); it is not content a model reads.
        if let object { collectStrings(object.filter { $0.key != "provenance" }, into: &strings) }
        strings += turns.map(\.content)
        for text in strings {
            for token in ImageReference.tokens where text.contains(token) { return "contains the image token \(token)" }
            if text.contains("data:image/") { return "contains an image data URL" }
            let range = NSRange(text.startIndex..., in: text)
            if let match = path.firstMatch(in: text, range: range), let found = Range(match.range, in: text) {
                return "contains the image path \(text[found])"
            }
        }
        for turn in turns where turn.role == "user" {
            if let phrase = ImageReference.firstMatch(in: turn.content) {
                return "asks about an image it does not carry (\"\(phrase)\" in \"\(turn.content.prefix(80))\")"
            }
        }
        return nil
    }

    /// A paired conversation's placeholder tokens: none (the image is a content part) or exactly one `<image>` per
    /// image — a placeholder written inside a text would give the trainer more tags than images.
    static func placeholderProblem(images: Int, turns: [ChatTurn]) -> String? {
        var counts: [String: Int] = [:]
        for turn in turns {
            for token in ImageReference.tokens { counts[token, default: 0] += turn.content.components(separatedBy: token).count - 1 }
        }
        let total = counts.values.reduce(0, +)
        guard total != 0, total != images || counts["<image>"] != images else { return nil }
        let found = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
        return "has \(found) for \(images) image(s): placeholder tokens other than one <image> per image"
    }

    private static func imageKey(in value: Any) -> String? {
        if let object = value as? [String: Any] {
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                if imageKeys.contains(key), !(child is NSNull) { return key }
                if let found = imageKey(in: child) { return found }
            }
        } else if let list = value as? [Any] {
            for child in list { if let found = imageKey(in: child) { return found } }
        }
        return nil
    }

    private static func collectStrings(_ value: Any, into out: inout [String]) {
        if let s = value as? String { out.append(s) }
        else if let object = value as? [String: Any] { for (_, child) in object.sorted(by: { $0.key < $1.key }) { collectStrings(child, into: &out) } }
        else if let list = value as? [Any] { for child in list { collectStrings(child, into: &out) } }
    }
}
