import Dataset
import Foundation

/// `askable`: every accepted test question can be asked in each condition it is scored in —
/// `no-image`: a stem and two to eight distinct, non-empty options with the answer among them;
/// `with-image`: its image in the workspace store, present and readable by the header probe;
/// `description-only`: an accepted description of its keyword.
struct AskableCheck: WorkspaceCheck {
    let name = "askable"
    let rule = "every test question has what with-image, no-image and description-only need"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        let manifest = context.manifest
        let described = Set(manifest.descriptions.filter { $0.status == "accepted" && !($0.text ?? "").isEmpty }.map(\.keywordID))
        var out: [CheckViolation] = []
        for q in manifest.acceptedQuestions where q.split == "test" {
            let item = context.name(question: q.id)
            let options = q.options.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if q.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                out.append(.init(item: item, message: "no-image: has an empty stem"))
            } else if options.count < 2 || options.count > ChatTemplates.letters.count {
                out.append(.init(item: item, message: "no-image: has \(options.count) options (2 to \(ChatTemplates.letters.count) needed)"))
            } else if options.contains(where: \.isEmpty) || Set(options).count != options.count {
                out.append(.init(item: item, message: "no-image: has empty or repeated options"))
            } else if !options.indices.contains(q.answer) {
                out.append(.init(item: item, message: "no-image: answer \(q.answer) is not one of its \(options.count) options"))
            }
            if q.imageSHA256.isEmpty {
                out.append(.init(item: item, message: "with-image: is linked to no image (type \(q.type))"))
            } else if let image = manifest.images[q.imageSHA256] {
                let url = context.workspace.imageURL(relativePath: image.path)
                if !FileManager.default.fileExists(atPath: url.path) {
                    out.append(.init(item: item, message: "with-image: its image \(q.imageSHA256) is missing from the store (\(image.path))"))
                } else {
                    do { _ = try ProbedImage.probe(fileAt: url) } catch {
                        out.append(.init(item: item, message: "with-image: its image \(q.imageSHA256) cannot be probed (\(error))"))
                    }
                }
            } else {
                out.append(.init(item: item, message: "with-image: its image \(q.imageSHA256) is not in the workspace"))
            }
            if let kid = q.keywordID {
                if !described.contains(kid) {
                    out.append(.init(item: item, message: "description-only: its keyword \(q.keyword ?? String(kid)) has no accepted description"))
                }
            } else {
                out.append(.init(item: item, message: "description-only: names no keyword, so no description can stand in for the image"))
            }
        }
        return out
    }
}
