import Foundation

/// LLaVA's stage-1 (feature alignment) file, shaped like its `blip_laion_cc_sbu_558k.json`: a list of
/// `{"id", "image", "conversations": [{"from": "human", "value": "<image>\n…"}, {"from": "gpt", "value": caption}]}`
/// whose captions are the paired samples' visual descriptions (one entry per image and description); `image` is
/// relative to `--image_folder` (this exports folder, the images the `llava` export places too).
struct LLaVAPretrainExport: ShardExportFormat {
    let name = "llava-pretrain"
    static let file = "llava_pretrain.json"
    /// The human turn before the image caption (LLaVA's `plain` template keeps only the image of it).
    static let prompt = "Describe the image briefly."

    func write(_ context: ExportContext) throws -> [String] {
        var items: [Any] = []
        for sample in context.inputs.paired where sample.kind == "description" && sample.aspect == "visual" {
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
