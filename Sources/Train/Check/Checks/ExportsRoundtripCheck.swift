import Foundation

/// `exports_roundtrip`: every export and question file under the shard folder reads back: question files
/// through the reader `dsbuild eval --questions` uses (any of its formats), with every `image_path` found in the
/// `images/` folder beside the file; LLaVA and LLaMA-Factory JSON as lists of conversations whose images are
/// there; `dataset_info.json` naming files that exist; OpenAI JSONL as `{"messages": […]}` lines with decodable
/// image data URLs. Whether the values still equal the manifest is `answer_keys_stable`'s job.
struct ExportsRoundtripCheck: WorkspaceCheck {
    let name = "exports_roundtrip"
    let rule = "every export and question file under the shard folder reads back, with its images"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        var out = context.exports.problems.map { CheckViolation(item: $0.item, message: $0.message) }
        for conversation in context.exports.conversations {
            for image in conversation.images where image.error == "is not a base64 data URL" {
                out.append(.init(item: image.item, message: "is not a base64 data URL"))
            }
        }
        return out
    }
}
