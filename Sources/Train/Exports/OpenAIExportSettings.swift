import Dataset
import Foundation

/// The `openai` export's file limit and validation part (`shards.openai.*`), and the limits OpenAI's fine-tuning
/// guide sets on what it reads.
public struct OpenAIExportSettings: Sendable, Equatable {
    /// A JSONL file is closed before it would pass this many bytes; the rest goes on in the next part
    /// (`shards.openai.max_file_bytes`; the Files API takes at most 512 MB a file).
    public var maxFileBytes = 512_000_000
    /// The share of the training images whose samples go to the validation file instead (`shards.openai.validation_fraction`).
    public var validationFraction = 0.1
    /// Seed of the validation draw (`shards.openai.seed`).
    public var seed = 0

    public init() {}

    /// OpenAI: an image in a fine-tuning file is at most 10 MB (read as 10⁶-byte megabytes, the stricter reading).
    public static let maxImageBytes = 10_000_000
    /// OpenAI: a fine-tuning file holds at least 10 examples.
    public static let minExamples = 10
}

/// The images whose samples the `openai` export holds out for validation: a seeded draw over the training images
/// (test images never reach an export), `round(fraction × images)` of them, at least one when the fraction is above
/// zero and there are two images or more. Each image's rank is a hash of the seed and its sha256, so the draw does
/// not depend on the order images are read in.
enum ValidationImages {
    static func draw(_ images: Set<String>, fraction: Double, seed: Int) -> Set<String> {
        guard fraction > 0, images.count >= 2 else { return [] }
        let count = min(images.count - 1, max(1, Int((fraction * Double(images.count)).rounded())))
        let ranks = Dictionary(uniqueKeysWithValues: images.map { ($0, rank($0, seed)) })
        let ranked = images.sorted { (ranks[$0]!, $0) < (ranks[$1]!, $1) }
        return Set(ranked.prefix(count))
    }

    private static func rank(_ sha: String, _ seed: Int) -> String {
        ContentHash.sha256Hex("openai-validation|\(seed)|\(sha)")
    }
}
