import Dataset
import Foundation

/// `shards_intact`: the shard folder is what `shards.json` says — every listed file there with its recorded size
/// and sha256, the fingerprint over them, no unlisted shard, every file readable, and every paired sample one
/// image, one `.json` and one `.txt`. The other checks audit the records; this one says the records are the
/// ones that were written.
struct ShardsIntactCheck: WorkspaceCheck {
    let name = "shards_intact"
    let rule = "the shard folder matches shards.json (files, sizes, sha256, fingerprint) and every paired sample is complete, its image the bytes it records"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        let shards = context.shards
        var out: [CheckViolation] = []
        if let error = shards.indexError {
            return [CheckViolation(item: "shards.json", message: "cannot be read: \(error)")]
        }
        guard let index = shards.index else { return [] }
        for file in shards.files {
            if !file.listed {
                out.append(.init(item: file.file, message: "is in the shard folder but not in shards.json (stale or added by hand)"))
                continue
            }
            if let error = file.readError { out.append(.init(item: file.file, message: error)); continue }
            if let bytes = file.bytes, let recorded = file.recordedBytes, bytes != recorded {
                out.append(.init(item: file.file, message: "has \(bytes) bytes; shards.json records \(recorded)"))
            } else if let sha = file.sha256, let recorded = file.recordedSHA256, sha != recorded {
                out.append(.init(item: file.file, message: "has sha256 \(sha); shards.json records \(recorded)"))
            }
        }
        let shas = (index.text + index.paired).map(\.sha256).sorted()
        if !index.fingerprint.isEmpty, ContentHash.sha256Hex(shas.joined()) != index.fingerprint {
            out.append(.init(item: "shards.json", message: "the fingerprint does not match the recorded shard sha256s"))
        }
        for problem in shards.problems { out.append(.init(item: problem.item, message: problem.message)) }
        for sample in shards.paired {
            if sample.images.count != 1 {
                out.append(.init(item: "\(sample.file) sample \(sample.key)", message: "has \(sample.images.count) image members; a paired sample has one"))
            }
            if let error = sample.jsonError { out.append(.init(item: "\(sample.file) sample \(sample.key)", message: error)) }
            else if sample.json == nil { out.append(.init(item: "\(sample.file) sample \(sample.key)", message: "has no .json member")) }
            if sample.text == nil { out.append(.init(item: "\(sample.file) sample \(sample.key)", message: "has no .txt member")) }
            // The image bytes are the ones the sample says were written (a store image changed after it was stored
            // would be written as it is now, under the old hashes).
            if let image = sample.images.first, let written = sample.json?["written_sha256"] as? String, image.sha256 != written {
                out.append(.init(item: sample.item, message: "image bytes hash to \(image.sha256); the sample records written_sha256 \(written) (image_sha256 \(sample.imageSHA256 ?? "?"))"))
            }
        }
        return out
    }
}
