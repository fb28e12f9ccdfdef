import Foundation

/// `provenance_complete`: every paired sample names where its image came from — `source`, `license`, `author`,
/// `page_url` in its `.json` provenance — and every description-derived text record names how its text was made:
/// `model` and `template_sha256` always; a description grounded on an image (`mode: image-grounded`) also the
/// image's `source`, `license`, `author` and `page_url`. Keyword-level text-only descriptions came from no image,
/// so the model and the prompt template's hash are their whole provenance.
struct ProvenanceCompleteCheck: WorkspaceCheck {
    let name = "provenance_complete"
    let rule = "paired samples name source, licence, author, page URL; description records name model and template (and the image's source when grounded on one)"

    static let imageFields = ["source", "license", "author", "page_url"]
    static let textFields = ["model", "template_sha256"]

    static func missing(_ provenance: [String: Any], _ fields: [String]) -> [String] {
        fields.filter { field in
            guard let value = provenance[field] as? String else { return true }
            return value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
    }

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        var out: [CheckViolation] = []
        for sample in context.shards.paired where sample.json != nil {
            let missing = Self.missing(sample.provenance, Self.imageFields)
            if !missing.isEmpty {
                out.append(.init(item: sample.item, message: "provenance lacks \(missing.joined(separator: ", ")) (image \(sample.imageSHA256 ?? "?"))"))
            }
        }
        for record in context.shards.text where record.kind == "description" {
            let provenance = record.provenance
            var fields = Self.textFields
            if provenance["mode"] as? String == "image-grounded" { fields += Self.imageFields }
            let missing = Self.missing(provenance, fields)
            if !missing.isEmpty {
                out.append(.init(item: record.item, message: "provenance lacks \(missing.joined(separator: ", "))"))
            }
        }
        return out
    }
}
