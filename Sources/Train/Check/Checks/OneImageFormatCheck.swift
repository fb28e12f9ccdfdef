import Dataset
import Foundation

/// `one_image_format`: every image member of the paired tars has one extension (HF `datasets` refuses tars
/// that mix `.jpg` and `.png` samples), and each member's bytes are the format its extension says.
struct OneImageFormatCheck: WorkspaceCheck {
    let name = "one_image_format"
    let rule = "one image extension across all paired tars, and each image's bytes match its extension"

    static func normalized(_ ext: String) -> String {
        switch ext.lowercased() {
        case "jpg", "jpeg": "jpeg"
        case "tif", "tiff": "tiff"
        case "heic", "heif": "heif"
        default: ext.lowercased()
        }
    }

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        let images = context.shards.paired.flatMap { sample in sample.images.map { (sample.file, $0) } }
        var counts: [String: Int] = [:]
        for (_, image) in images { counts[image.fileExtension, default: 0] += 1 }
        let majority = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.first?.key
        var out: [CheckViolation] = []
        for (file, image) in images {
            let item = "\(file) member \(image.member)"
            if let majority, image.fileExtension != majority {
                out.append(.init(item: item, message: ".\(image.fileExtension) among \(counts[majority] ?? 0) .\(majority) members (one image format per dataset)"))
            }
            if let magic = image.magicFormat, Self.normalized(magic) != Self.normalized(image.fileExtension) {
                out.append(.init(item: item, message: "holds \(magic) bytes under a .\(image.fileExtension) name"))
            }
        }
        return out
    }
}
