import Dataset
import Foundation

/// Decodes pixels and computes perceptual hashes; implemented with the real codecs in `ImageCodecAnalyzer`.
public protocol PixelAnalyzing: Sendable {
    /// Fully decodes the file; throws an error naming the cause when it is truncated or corrupt, or when its
    /// pixel count exceeds `maxPixels` (refused before allocating).
    func verifyDecodes(fileAt url: URL, maxPixels: Int) throws
    /// The 64-bit pHash as 16 hex digits: `.exact` as the `imagehash` library computes it, `.fast` from a
    /// DCT-scaled JPEG decode (a few bits off at most; see `PerceptualHash.Mode`).
    func perceptualHash(fileAt url: URL, mode: PerceptualHash.Mode) throws -> String
}

/// Drops images that do not decode completely with the real codecs (truncated, corrupt), bounded in memory.
public struct IntegrityRule: FilterRule {
    public let name = "integrity"
    public let analyzer: any PixelAnalyzing
    public let maxPixels: Int

    public init(analyzer: any PixelAnalyzing, maxPixels: Int = 178_956_970) {
        self.analyzer = analyzer
        self.maxPixels = maxPixels
    }

    public var settingsDescription: String { "\(maxPixels)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        do {
            try analyzer.verifyDecodes(fileAt: s.fileURL, maxPixels: maxPixels)
            return .keep("decodes", "full decode", "\(s.probe.format) decodes completely")
        } catch {
            return .drop("error", "full decode", "\(s.probe.format) does not decode: \(error)")
        }
    }
}
