import Foundation

/// `orientation_applied`: every image that leaves the workspace — each paired tar's image members, every image
/// file of the exports and every image inside an export (data URLs) — is stored upright: its EXIF orientation
/// tag is absent or 1, read by the header probe (no decode). Readers (webdataset, HF `datasets`, the trainer,
/// LLaVA) do not apply the tag, so a rotated one is trained sideways.
struct OrientationAppliedCheck: WorkspaceCheck {
    let name = "orientation_applied"
    let rule = "every image in paired shards and exports is upright (EXIF orientation absent or 1)"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        var out: [CheckViolation] = []
        for sample in context.shards.paired {
            for image in sample.images {
                let item = "\(sample.file) member \(image.member)"
                if let error = image.probeError {
                    out.append(.init(item: item, message: "cannot be probed, so its orientation is unknown (\(error))"))
                } else if let probe = image.probe, probe.orientation != 1 {
                    out.append(.init(item: item, message: "has EXIF orientation \(probe.orientation): readers show it rotated (image \(image.sha256))"))
                }
            }
        }
        var seen = Set<String>()
        let exported = context.exports.imageFiles + context.exports.conversations.flatMap(\.images)
            + context.exports.questions.compactMap(\.image)
        for image in exported {
            guard image.error != "is missing" else { continue }  // exports_roundtrip names missing files
            guard seen.insert(image.item).inserted else { continue }  // one file is probed once, under its first name
            if let error = image.error {
                out.append(.init(item: image.item, message: error))
            } else if let probe = image.probe, probe.orientation != 1 {
                out.append(.init(item: image.item, message: "has EXIF orientation \(probe.orientation): readers show it rotated"))
            }
        }
        return out
    }
}
