import Foundation

/// LLaVA's stage-1 (feature alignment) file, shaped like its `blip_laion_cc_sbu_558k.json`: a list of
/// `{"id", "image", "conversations": [{"from": "human", "value": "<image>\n…"}, {"from": "gpt", "value": caption}]}`
/// whose captions are the paired samples' image-grounded visual descriptions (one entry per image and description); `image` is
/// relative to `--image_folder` (this exports folder, the images the `llava` export places too).
struct LLaVAPretrainExport: ShardExportFormat {
    let name = "llava-pretrain"
    func owns(_ entry: String) -> Bool { entry == Self.file }
    static let file = "llava_pretrain.json"
    /// The human turn before the image caption (LLaVA's `plain` template keeps only the image of it).
    static let prompt = "Describe the image briefly."

    func write(_ context: ExportContext) throws -> [String] {
        var items: [Any] = []
        // Only descriptions written from this very image caption it: a keyword-level (text-only mode) description is
        // paired with the keyword's first image but describes no image in particular.
        for sample in context.inputs.paired where sample.kind == "description" && sample.aspect == "visual" && sample.imageGrounded {
            let image = try context.placeImage(sample)
            items.append(["id": sample.key, "image": image, "conversations": [
                ["from": "human", "value": "<image>\n" + Self.prompt],
                ["from": "gpt", "value": sample.text],
            ]])
        }
        try AtomicFile.write(try ExportContext.jsonData(items, pretty: true), to: context.directory.appendingPathComponent(Self.file))
        return [Self.file]
    }
}
