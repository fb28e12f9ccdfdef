import Dataset
import Foundation
import GRDB
import Imaging
import Synchronization

/// `describe` as a `Stage`: one item per (keyword, image or none, aspect, mode, language, variant) that has no
/// accepted or rejected row for the current template and model; failed rows are retried on the next run.
public struct DescribeStage: Stage {
    public struct Item: Sendable {
        public var keywordID: Int64
        public var keyword: String
        public var category: String
        public var language: String
        public var aspect: String
        public var mode: String
        public var variant: Int
        public var imageSHA256: String
        public var imagePath: String?
        public var imageFormat: String?
        public var imageLongSide: Int?
        public var sourceTitle: String
        public var sourceDescription: String
        public var template: AspectTemplate
        /// Every keyword of the dataset (shared storage), for the consistency check.
        public var allKeywords: [String]

        /// What the description is of (its row's identity but the model).
        public var key: DescriptionKey {
            DescriptionKey(keywordID: keywordID, imageSHA256: imageSHA256, aspect: aspect, mode: mode, language: language,
                           variant: variant, templateSHA256: template.sha256)
        }
    }

    public enum Outcome: Sendable {
        case accepted(text: String, result: ChatResultSummary)
        /// `result` is nil when every answer was rejected by the validator (the client gave up re-asking).
        case rejected(DescriptionRejection, text: String, result: ChatResultSummary?)
        case failed(ChatError)
    }

    /// What is kept of a `ChatResult` in the descriptions row.
    public struct ChatResultSummary: Sendable {
        public var requestKey: String
        public var promptTokens: Int
        public var completionTokens: Int
        public var fromCache: Bool
    }

    public let name = "describe"
    public let settings: DescribeSettings
    public let client: any ChatService
    public let workspaceRoot: URL
    public let templates: [String: AspectTemplate]
    /// Accepted descriptions per (keyword, aspect, language), for the near-duplicate check across in-flight items.

    public init(settings: DescribeSettings, client: any ChatService, workspaceRoot: URL) throws {
        self.settings = settings
        self.client = client
        self.workspaceRoot = workspaceRoot
        var templates: [String: AspectTemplate] = [:]
        for aspect in settings.aspects {
            guard let template = try AspectTemplate.load(aspect: aspect, directory: settings.templatesDirectory) else {
                throw ChatError(.badRequest, "no template for the aspect \"\(aspect)\": add \(aspect).txt to \(settings.templatesDirectory?.path ?? "prompts/describe/") or use one of \(Aspect.promptable.sorted().joined(separator: ", "))")
            }
            templates[aspect] = template
        }
        self.templates = templates
    }

    // MARK: Pending

    public func pending(in manifest: Manifest) async throws -> [Item] {
        let settings = self.settings
        let templates = self.templates
        return try await manifest.asyncRead { db in
            let keywords = try KeywordStore.all(in: db)
            let allKeywords = keywords.map(\.entry.text)
            let done = Set(try DescriptionRow.filter(Column("model") == settings.model && ["accepted", "rejected"].contains(Column("status")))
                .fetchAll(db).map(\.key))
            var items: [Item] = []
            for keyword in keywords {
                let kept = try Self.keptImages(of: keyword.id, limit: settings.imagesPerKeyword, in: db)
                let source = try Row.fetchOne(db, sql: """
                    SELECT title, description FROM candidates WHERE keyword_id = ? AND (title IS NOT NULL OR description IS NOT NULL)
                    ORDER BY rank, source, source_id LIMIT 1
                    """, arguments: [keyword.id])
                let languages = settings.languages.isEmpty ? [keyword.entry.language ?? "en"] : settings.languages
                for aspect in settings.aspects {
                    guard let template = templates[aspect] else { continue }
                    for mode in settings.modes {
                        let images: [(String, String?, String?, Int?)] = mode == "text-only" ? [("", nil, nil, nil)] : kept
                        for image in images {
                            for language in languages {
                                for variant in 0..<max(settings.perKeyword, 1) {
                                    let key = DescriptionKey(keywordID: keyword.id, imageSHA256: image.0, aspect: aspect, mode: mode,
                                                             language: language, variant: variant, templateSHA256: template.sha256)
                                    if done.contains(key) { continue }
                                    items.append(Item(keywordID: keyword.id, keyword: keyword.entry.text,
                                                      category: keyword.entry.category ?? "item", language: language,
                                                      aspect: aspect, mode: mode, variant: variant, imageSHA256: image.0,
                                                      imagePath: image.1, imageFormat: image.2, imageLongSide: image.3,
                                                      sourceTitle: source?["title"] ?? "",
                                                      sourceDescription: source?["description"] ?? "", template: template,
                                                      allKeywords: allKeywords))
                                }
                            }
                        }
                    }
                }
            }
            return items
        }
    }

    /// The kept images of a keyword: every filter decision for the (image, keyword) pair passed.
    static func keptImages(of keywordID: Int64, limit: Int, in db: Database) throws -> [(String, String?, String?, Int?)] {
        try Row.fetchAll(db, sql: """
            SELECT i.sha256, i.path, i.format, MAX(COALESCE(i.display_width, i.width, 0), COALESCE(i.display_height, i.height, 0))
            FROM images i JOIN kept_pairs k ON k.image_sha256 = i.sha256 AND k.keyword_id = ?
            ORDER BY i.sha256 LIMIT ?
            """, arguments: [keywordID, max(limit, 1)]).map { ($0[0], $0[1], $0[2], $0[3]) }
    }

    // MARK: Work

    public func work(on item: Item) async throws -> Outcome {
        let prompt = item.template.render([
            "keyword": item.keyword, "category": item.category, "language": LanguageNames.name(item.language),
            "source_title": item.sourceTitle, "source_description": item.sourceDescription,
        ])
        var parts: [ChatMessage.Part] = [.text(prompt)]
        if item.mode == "image-grounded", let path = item.imagePath {
            do {
                var data = try Data(contentsOf: workspaceRoot.appendingPathComponent(path))
                var mime = Self.mimeType(item.imageFormat)
                // Every image goes through the downscaler: it rotates to upright and scales down, and returns
                // an upright image within the limit unchanged.
                (data, mime) = try ImageDownscaler().downscale(data, mimeType: mime, maxSide: settings.maxImageSide)
                parts.append(.image(data, mimeType: mime))
            } catch {
                return .failed(ChatError(.badRequest, "cannot read the image \(item.imageSHA256.prefix(12)) at \(path): \(error)"))
            }
        }
        let sampling = settings.sampling(variant: item.variant)
        let bounds = settings.lengthBounds(of: item.aspect)
        let validator = DescriptionValidator(minChars: bounds.min, maxChars: bounds.max, allKeywords: item.allKeywords)
        // The client re-asks a rejected description with the reason fed back; the last rejection is kept for the
        // row when every answer was rejected.
        let lastRejection = LastRejection()
        let keyword = item.keyword, language = item.language
        var request = ChatRequest(model: settings.model,
                                  messages: [.system("You write accurate, specific reference descriptions for a dataset."),
                                             ChatMessage(role: .user, parts: parts)],
                                  temperature: sampling.temperature, maxTokens: settings.maxTokens, seed: sampling.seed,
                                  purpose: "describe.\(item.aspect)", refresh: settings.refresh)
        request.validator = { answer in
            let text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let rejection = validator.check(text, keyword: keyword, language: language) else { return nil }
            lastRejection.set(rejection, text: text)
            return "\(rejection.reason.replacingOccurrences(of: "_", with: " ")) (\(rejection.detail))"
        }
        let result: ChatResult
        do {
            result = try await client.complete(request)
        } catch {
            if error.isFatal || error.code == .cancelled { throw error }
            if error.code == .invalidOutput, let (rejection, text) = lastRejection.get() {
                return .rejected(rejection, text: text, result: nil)
            }
            return .failed(error)
        }
        let summary = ChatResultSummary(requestKey: result.requestKey, promptTokens: result.usage.promptTokens,
                                        completionTokens: result.usage.completionTokens, fromCache: result.fromCache)
        let text = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if result.finishReason == "length" {
            return .rejected(DescriptionRejection("truncated", "cut at max_tokens (\(settings.maxTokens))"), text: text, result: summary)
        }
        if let rejection = validator.check(text, keyword: item.keyword, language: item.language) {
            return .rejected(rejection, text: text, result: summary)
        }
        // Near-duplicates are settled after the run by `DescriptionDeduplication`, in a fixed order, so the
        // outcome does not depend on which request finished first.
        return .accepted(text: text, result: summary)
    }

    static func mimeType(_ format: String?) -> String {
        switch format?.lowercased() {
        case "png": return "image/png"
        case "webp": return "image/webp"
        case "gif": return "image/gif"
        default: return "image/jpeg"
        }
    }

    // MARK: Record

    public func record(_ outcome: Outcome, for item: Item, in db: Database, run: StageRun) throws {
        var status: String
        var text: String?
        var reason: String?
        var detail: String?
        var summary: ChatResultSummary?
        switch outcome {
        case .accepted(let t, let s):
            (status, text, summary) = ("accepted", t, s)
        case .rejected(let rejection, let t, let s):
            (status, text, reason, detail, summary) = ("rejected", t, rejection.reason, rejection.detail, s)
        case .failed(let error):
            (status, reason, detail) = ("failed", error.code.rawValue, error.message)
        }
        try DescriptionRow(key: item.key, model: settings.model, text: text, status: status, reason: reason, detail: detail,
                           requestKey: summary?.requestKey, promptTokens: summary?.promptTokens ?? 0,
                           completionTokens: summary?.completionTokens ?? 0).upsert(db)
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .accepted: return .ok
        case .rejected(let rejection, _, _): return StageOutcomeClass(key: "rejected_\(rejection.reason)")
        case .failed(let error):
            return StageOutcomeClass(key: "failed_\(error.code.rawValue)", failed: true, message: error.description)
        }
    }
}

/// The validator's last rejection of one description request, shared with the client's validation closure.
final class LastRejection: Sendable {
    private let value = Mutex<(DescriptionRejection, String)?>(nil)

    func set(_ rejection: DescriptionRejection, text: String) { value.withLock { $0 = (rejection, text) } }
    func get() -> (DescriptionRejection, String)? { value.withLock { $0 } }
}
