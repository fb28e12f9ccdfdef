import Dataset
import Foundation
import Imaging

/// Asks a vision model whether an image shows a visible watermark. Implemented over `ChatService` in
/// `VLMWatermarkJudge`; a protocol so tests can script it.
public protocol WatermarkJudging: Sendable {
    /// Returns true when the model sees a watermark, logo or stock text, with its short explanation. Throws
    /// `JudgeError` (`unreadableImage` when the image itself cannot be judged); any other failure leaves the
    /// image undecided, to be judged again on the next run.
    func judge(imageAt url: URL, format: String) async throws -> (watermarked: Bool, explanation: String)
}

/// Drops images that carry a watermark signal, each signal recorded by name and value:
/// the candidate's `pwatermark` ≥ threshold (LAION convention), a stock agency named in the embedded
/// EXIF/IPTC/XMP credit, source, licensor or copyright, a stock host in the image or page URL, and optionally a
/// VLM judge.
public struct WatermarkRule: RegisteredRule {
    public static let ruleName = "watermark"

    /// `filter.watermark.*`: on by default, with LAION's pwatermark threshold and the stock names and domains
    /// below; the VLM judge only when asked for (it costs a model call per image).
    public struct Settings: RuleSettings {
        public var enabled = true
        public var pwatermarkThreshold = 0.8
        public var stockNames = WatermarkRule.defaultStockNames
        public var stockDomains = WatermarkRule.defaultStockDomains
        public var vlmJudge = false
        /// The judge's model; nil asks `llm.model`.
        public var vlmModel: String?

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .bool("watermark.enabled", \.enabled, help: "drop images with a watermark (LAION pwatermark, stock names and domains)"),
            .number("watermark.pwatermark_threshold", \.pwatermarkThreshold, rule: .within(0, 1),
                    help: "a pwatermark score at or above this drops the image"),
            .strings("watermark.stock_names", \.stockNames, help: "stock-agency names that mark an image as watermarked"),
            .strings("watermark.stock_domains", \.stockDomains, help: "stock-agency domains that mark an image as watermarked"),
            .bool("watermark.vlm_judge", \.vlmJudge, help: "ask the model whether an image carries a watermark"),
            .string("watermark.vlm_model", \.vlmModel, help: "the judge's model (unset: llm.model)"),
        ]
    }

    /// The rule, asking `context.judge` only when `watermark.vlm_judge` is on.
    public static func make(_ settings: Settings, context: RuleContext) -> WatermarkRule? {
        guard settings.enabled else { return nil }
        return WatermarkRule(pwatermarkThreshold: settings.pwatermarkThreshold, stockNames: settings.stockNames,
                             stockDomains: settings.stockDomains, judge: settings.vlmJudge ? context.judge : nil)
    }

    public static let defaultStockNames = [
        "Getty Images", "iStock", "istockphoto", "Shutterstock", "Alamy", "Adobe Stock", "Dreamstime",
        "Depositphotos", "123RF", "Bigstock", "Fotolia", "Pond5", "agefotostock", "Masterfile", "Science Photo Library",
    ]
    public static let defaultStockDomains = [
        "shutterstock.com", "alamy.com", "istockphoto.com", "gettyimages.", "dreamstime.com", "123rf.com",
        "depositphotos.com", "bigstockphoto.com", "stock.adobe.com", "ftcdn.net", "fotolia.com", "pond5.com",
    ]
    /// The rights-metadata keys that name who supplies an image.
    static let creditKeys: [String] = {
        typealias K = EmbeddedRights.Key
        return [K.exifCopyright, K.exifArtist, K.iptcByline, K.iptcCredit, K.iptcSource, K.iptcCopyrightNotice,
                K.xmpRights, K.xmpCreator, K.xmpCredit, K.xmpSource, K.xmpLicensorName, K.xmpLicensorURL,
                K.xmpWebStatement, K.xmpUsageTerms, K.xmpOwner]
    }()

    public let pwatermarkThreshold: Double
    public let stockNames: [String]
    public let stockDomains: [String]
    public let judge: (any WatermarkJudging)?

    public init(pwatermarkThreshold: Double = 0.8, stockNames: [String] = WatermarkRule.defaultStockNames,
                stockDomains: [String] = WatermarkRule.defaultStockDomains, judge: (any WatermarkJudging)? = nil) {
        self.pwatermarkThreshold = pwatermarkThreshold
        self.stockNames = stockNames
        self.stockDomains = stockDomains
        self.judge = judge
    }

    /// With the VLM judge it asks a model, so only about images the other rules keep.
    public var asksModel: Bool { judge != nil }

    public var settingsDescription: String {
        "\(pwatermarkThreshold)|\(stockNames.sorted().joined(separator: ","))|\(stockDomains.sorted().joined(separator: ","))|judge=\(judge != nil)"
    }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        if let raw = s.extra["pwatermark"] ?? s.extra["PWATERMARK"], let p = Double(raw), p >= pwatermarkThreshold {
            return .drop("pwatermark=\(raw)", ">= \(formatNumber(pwatermarkThreshold))",
                         "pwatermark \(raw) >= \(formatNumber(pwatermarkThreshold))")
        }
        if s.rightsGetty {
            return .drop("getty_gift_asset", "stock metadata", "Getty Images asset id in XMP (\(s.probe.rights[EmbeddedRights.Key.gettyAssetID] ?? ""))")
        }
        for key in Self.creditKeys {
            guard let value = s.probe.rights[key] else { continue }
            let lowered = value.lowercased()
            if let agency = stockNames.first(where: { lowered.contains($0.lowercased()) }) {
                return .drop("\(key)=\(value.prefix(80))", "stock names", "\(key) names stock agency \(agency)")
            }
            if let domain = stockDomains.first(where: { lowered.contains($0) }) {
                return .drop("\(key)=\(value.prefix(80))", "stock domains", "\(key) points at stock host \(domain)")
            }
        }
        for url in s.urls {
            let host = (URL(string: url)?.host ?? "").lowercased()
            if let domain = stockDomains.first(where: { host.contains($0) }) {
                return .drop("url=\(url.prefix(100))", "stock domains", "URL host \(host) is stock host \(domain)")
            }
        }
        if let judge {
            do {
                let verdict = try await judge.judge(imageAt: s.fileURL, format: s.probe.format)
                if verdict.watermarked {
                    return .drop("vlm=watermarked", "vlm judge", "VLM judge sees a watermark: \(verdict.explanation.prefix(120))")
                }
            } catch {
                return .judgeFailed(error, rule: "watermark", threshold: "vlm judge", subject: s, what: "watermark judge")
            }
        }
        return .keep("none", "no signal", "no watermark signal")
    }
}

extension FilterSubject {
    var rightsGetty: Bool { probe.rights[EmbeddedRights.Key.gettyAssetID].map { !$0.isEmpty } ?? false }
}

extension FilterSettings {
    /// `filter.watermark.vlm_judge` and `--vlm-judge`: the command wires a judge only when it is on.
    public var vlmJudge: Bool {
        get { self[WatermarkRule.self].vlmJudge }
        set { self[WatermarkRule.self].vlmJudge = newValue }
    }

    /// `filter.watermark.vlm_model`: the judge's model; nil asks `llm.model`.
    public var vlmModel: String? {
        get { self[WatermarkRule.self].vlmModel }
        set { self[WatermarkRule.self].vlmModel = newValue }
    }
}
