import Dataset
import Foundation
import Imaging
import Synchronization

/// Decodes pixels and computes perceptual hashes: `PixelAnalyzer` (Imaging) with the real codecs. A protocol so that
/// tests can script what real files cannot show on demand (a decode failure on a chosen image, chosen pHashes, a
/// count of decodes).
public protocol PixelAnalyzing: Sendable {
    /// Fully decodes the file; throws an error naming the cause when it is truncated or corrupt, or when its
    /// pixel count exceeds `maxPixels` (refused before allocating).
    func verifyDecodes(fileAt url: URL, maxPixels: Int) throws
    /// The 64-bit pHash as 16 hex digits: `.exact` as the `imagehash` library computes it, `.fast` from a
    /// DCT-scaled JPEG decode (a few bits off at most; see `PerceptualHash.Mode`).
    func perceptualHash(fileAt url: URL, mode: PerceptualHash.Mode) throws -> String
    /// `verifyDecodes`, returning the exact pHash as well where the same decode yields it (JPEG), so the
    /// duplicates rule need not decode the image a second time; nil where it does not.
    func verifyDecodesAndHash(fileAt url: URL, maxPixels: Int) throws -> String?
}

extension PixelAnalyzing {
    public func verifyDecodesAndHash(fileAt url: URL, maxPixels: Int) throws -> String? {
        try verifyDecodes(fileAt: url, maxPixels: maxPixels)
        return nil
    }
}

extension PixelAnalyzer: PixelAnalyzing {}

/// Exact pHashes that the integrity rule's decodes produced on the way, keyed by image sha256, for the filter
/// to store before duplicate grouping.
public final class PHashByproducts: Sendable {
    private let hashes = Mutex<[String: String]>([:])

    public init() {}

    func record(_ hash: String, for sha256: String) { hashes.withLock { $0[sha256] = hash } }

    /// The hash recorded for one image, removing it (the filter stores it with that image's decisions).
    public func take(_ sha256: String) -> String? { hashes.withLock { $0.removeValue(forKey: sha256) } }

    /// Everything recorded so far, emptying the collection.
    public func drain() -> [String: String] { hashes.withLock { h in defer { h = [:] }; return h } }
}

/// Drops images that do not decode completely with the real codecs (truncated, corrupt), bounded in memory.
public struct IntegrityRule: RegisteredRule {
    public static let ruleName = "integrity"
    /// The default decode limit: refused above it (a decompression bomb), before allocating.
    public static let defaultMaxPixels = 178_956_970

    /// `filter.integrity.*`: on by default.
    public struct Settings: RuleSettings {
        public var enabled = true
        public var maxPixels = IntegrityRule.defaultMaxPixels

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .bool("integrity.enabled", \.enabled, help: "decode every image fully; drop truncated or corrupt ones"),
            .int("integrity.max_pixels", \.maxPixels, rule: .atLeast(1),
                 help: "refuse to decode images larger than this (decompression bombs)"),
        ]
    }

    /// The rule, when it is on and a pixel analyzer is wired; it hands its decodes' pHashes to `context.hashes`.
    public static func make(_ settings: Settings, context: RuleContext) -> IntegrityRule? {
        guard settings.enabled, let analyzer = context.analyzer else { return nil }
        return IntegrityRule(analyzer: analyzer, maxPixels: settings.maxPixels, hashes: context.hashes)
    }

    public let analyzer: any PixelAnalyzing
    public let maxPixels: Int
    /// Where exact pHashes computed by the verifying decode go; nil when nobody wants them.
    public let hashes: PHashByproducts?

    public init(analyzer: any PixelAnalyzing, maxPixels: Int = IntegrityRule.defaultMaxPixels, hashes: PHashByproducts? = nil) {
        self.analyzer = analyzer
        self.maxPixels = maxPixels
        self.hashes = hashes
    }

    public var settingsDescription: String { "\(maxPixels)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        do {
            if let hashes {
                if let hash = try analyzer.verifyDecodesAndHash(fileAt: s.fileURL, maxPixels: maxPixels) {
                    hashes.record(hash, for: s.sha256)
                }
            } else {
                try analyzer.verifyDecodes(fileAt: s.fileURL, maxPixels: maxPixels)
            }
            return .keep("decodes", "full decode", "\(s.probe.format) decodes completely")
        } catch {
            return .drop("error", "full decode", "\(s.probe.format) does not decode: \(error)")
        }
    }
}
