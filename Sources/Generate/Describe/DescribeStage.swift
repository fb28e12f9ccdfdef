import Dataset
import Foundation
import GRDB
import Imaging
import Synchronization

/// `describe` as a `Stage`: one item per (keyword, image or none, aspect, mode, language, variant) that has no
/// accepted or rejected row for the current template and model; failed rows are retried on the next run. With
/// `describe.verify`, an accepted description also needs a faithfulness verdict (`DescriptionVerifier`), checked
/// before it is accepted (`DescribeStage+Verify.swift`), and a stored one without a current verdict is pending.
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
        /// The stored row's status and text when there is one (an item pending for its faithfulness verdict).
        public var stored: (status: String, text: String?)?
        /// For the verifier of a text-only description: the faithful image-grounded descriptions of the keyword.
        public var references: [String] = []

        /// The accepted text to verify instead of writing one.
        var storedText: String? { stored?.status == "accepted" ? stored?.text : nil }

        /// What the description is of (its row's identity but the model).
        public var key: DescriptionKey {
            DescriptionKey(keywordID: keywordID, imageSHA256: imageSHA256, aspect: aspect, mode: mode, language: language,
                           variant: variant, templateSHA256: template.sha256)
        }
    }

    public enum Outcome: Sendable {
        /// `result` is nil when the stored text was verified as it was; `verdict` is the verifier's, when it ran.
        case accepted(text: String, result: ChatResultSummary?, verdict: DescriptionVerifier.Record?)
        /// `result` is nil when every answer was rejected by the validator (the client gave up re-asking) or the
        /// stored text was judged unfaithful; `verdict` is set for an `unfaithful` rejection.
        case rejected(DescriptionRejection, text: String, result: ChatResultSummary?, verdict: DescriptionVerifier.Record?)
        case failed(ChatError)
        /// The description was written but the verifier gave no verdict: a failure, not a decision. A stored row is
        /// left as it is; a new one is stored `failed`, so the item is retried on the next run.
        case unverified(JudgeError, text: String, result: ChatResultSummary?)
    }

    /// What is kept of a `ChatResult` in the descriptions row.
    public struct ChatResultSummary: Sendable {
        public var requestKey: String
        public var promptTokens: Int
        public var completionTokens: Int
        public var fromCache: Bool
        /// Set when the reply was cut at `max_tokens` and trimmed to its last whole sentence (`llm.local.trim_truncated`):
        /// recorded as the accepted row's `reason = trimmed` and this detail.
        public var trimmed: String? = nil
    }

    public let name = "describe"
    public let settings: DescribeSettings
    public let client: any ChatService
    public let workspaceRoot: URL
    public let templates: [String: AspectTemplate]
    /// The faithfulness check, when `describe.verify` is on.
    public let verifier: DescriptionVerifier?
    /// Only items of this mode (nil: every mode). With the verifier, image-grounded descriptions are written and
    /// verified first, so text-only ones are checked against them (`DescribeRun`).
    public var onlyMode: String?

    public init(settings: DescribeSettings, client: any ChatService, workspaceRoot: URL) throws {
        self.settings = settings
        self.client = client
        self.workspaceRoot = workspaceRoot
        verifier = settings.verify
            ? DescriptionVerifier(judge: try FaithfulnessJudge(service: client, model: settings.verifyModel, workspaceRoot: workspaceRoot,
                                                               refresh: settings.refresh))
            : nil
        var templates: [String: AspectTemplate] = [:]
        for aspect in settings.aspects {
            guard let template = try AspectTemplate.load(aspect: aspect, directory: settings.templatesDirectory) else {
                throw ChatError(.badRequest, "no template for the aspect \"\(aspect)\": add \(aspect).txt to \(settings.templatesDirectory?.path ?? "prompts/describe/") or use one of \(Aspect.promptable.sorted().joined(separator: ", "))")
            }
            // A base model continues the aspect's section of an encyclopedia entry (`DocumentPrompt`) instead: the
            // aspect is still named by a template or built in (a misspelt one is refused alike).
            templates[aspect] = settings.llm.promptsAsDocument
                ? AspectTemplate(aspect: aspect, text: DocumentPrompt.description(Aspect.resolved(aspect).documentSection))
                : template
        }
        self.templates = templates
    }

    // MARK: Pending

    public func pending(in manifest: Manifest) async throws -> [Item] {
        let settings = self.settings
        let templates = self.templates
        let verifier = self.verifier
        let onlyMode = self.onlyMode
        return try await manifest.asyncRead { db in
            let keywords = try KeywordStore.all(in: db)
            let allKeywords = keywords.map(\.entry.text)
            let rows = Dictionary(try DescriptionRow.filter(Column("model") == settings.model && ["accepted", "rejected"].contains(Column("status")))
                .fetchAll(db).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let judgements = verifier == nil ? [:] : try JudgementRow.all(of: .faithfulness, in: db)
            let references = verifier == nil ? [:] : try DescriptionVerifier.references(in: db, judgements: judgements)
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
                    for mode in settings.modes where onlyMode == nil || mode == onlyMode {
                        let images: [(String, String?, String?, Int?)] = mode == "text-only" ? [("", nil, nil, nil)] : kept
                        for image in images {
                            for language in languages {
                                for variant in 0..<max(settings.perKeyword, 1) {
                                    let key = DescriptionKey(keywordID: keyword.id, imageSHA256: image.0, aspect: aspect, mode: mode,
                                                             language: language, variant: variant, templateSHA256: template.sha256)
                                    var row = rows[key]
                                    let refs = mode == "text-only" ? references[keyword.id] ?? [] : []
                                    // A reply cut at another completion limit was rejected for that setting, not for
                                    // the item: with the limit changed it is asked again (its row is replaced).
                                    if let cut = row, cut.status == "rejected", cut.reason == "truncated",
                                       cut.detail != Self.truncatedDetail(settings.maxTokens) {
                                        row = nil
                                    }
                                    if let row {
                                        guard let verifier, verifier.needsVerdict(row, judgement: judgements[row.subject],
                                                                                  hasReferences: !refs.isEmpty) else { continue }
                                    }
                                    items.append(Item(keywordID: keyword.id, keyword: keyword.entry.text,
                                                      category: keyword.entry.category ?? "item", language: language,
                                                      aspect: aspect, mode: mode, variant: variant, imageSHA256: image.0,
                                                      imagePath: image.1, imageFormat: image.2, imageLongSide: image.3,
                                                      sourceTitle: source?["title"] ?? "",
                                                      sourceDescription: source?["description"] ?? "", template: template,
                                                      allKeywords: allKeywords, stored: row.map { ($0.status, $0.text) },
                                                      references: refs))
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
        let request: ChatRequest
        switch writerRequest(for: item) {
        case .success(let built): request = built
        case .failure(let error): return .failed(error)
        }
        let text: String
        let summary: ChatResultSummary?
        if let stored = item.storedText {
            // Accepted before: only its verdict is missing. The stored text is checked as it is (no writer request).
            (text, summary) = (stored, nil)
        } else {
            switch try await write(request, for: item) {
            case .text(let written, let result): (text, summary) = (written, result)
            case .rejected(let rejection, let written, let result): return .rejected(rejection, text: written, result: result, verdict: nil)
            case .failed(let error): return .failed(error)
            }
        }
        guard let verifier else { return .accepted(text: text, result: summary, verdict: nil) }
        return try await verified(text, summary: summary, writer: request, item: item, verifier: verifier)
    }

    /// The writer's request for an item: the aspect's prompt (with the image for an image-grounded item).
    func writerRequest(for item: Item) -> Result<ChatRequest, ChatError> {
        if settings.llm.promptsAsDocument, item.mode != "image-grounded" {
            let values = ["keyword": item.keyword, "category": item.category]
            let sampling = settings.sampling(variant: item.variant)
            return .success(ChatRequest(model: settings.model,
                                        messages: [.user(PromptPlaceholders.fill(item.template.text, names: AspectTemplate.placeholders, values: values))],
                                        temperature: sampling.temperature, maxTokens: settings.maxTokens, seed: sampling.seed,
                                        purpose: "describe.\(item.aspect)", refresh: settings.refresh,
                                        stop: DocumentPrompt.descriptionStop,
                                        lead: PromptPlaceholders.fill(DocumentPrompt.descriptionLead, names: AspectTemplate.placeholders, values: values),
                                        reasksOnRejection: false))
        }
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
                return .failure(ChatError(.badRequest, "cannot read the image \(item.imageSHA256.prefix(12)) at \(path): \(error)"))
            }
        }
        let sampling = settings.sampling(variant: item.variant)
        return .success(ChatRequest(model: settings.model,
                                    messages: [.system("You write accurate, specific reference descriptions for a dataset."),
                                               ChatMessage(role: .user, parts: parts)],
                                    temperature: sampling.temperature, maxTokens: settings.maxTokens, seed: sampling.seed,
                                    purpose: "describe.\(item.aspect)", refresh: settings.refresh))
    }

    /// What one writer call gave.
    enum Written {
        case text(String, ChatResultSummary)
        case rejected(DescriptionRejection, String, ChatResultSummary?)
        case failed(ChatError)
    }

    /// Asks the writer (`request`, a conversation that may end with the verifier's feedback) and checks the answer.
    /// A fatal model error or a cancellation is thrown.
    func write(_ request: ChatRequest, for item: Item) async throws -> Written {
        var request = request
        let bounds = settings.lengthBounds(of: item.aspect)
        let validator = DescriptionValidator(minChars: bounds.min, maxChars: bounds.max, allKeywords: item.allKeywords,
                                             instructions: item.template.text)
        // The client re-asks a rejected description with the reason fed back; the last rejection is kept for the
        // row when every answer was rejected.
        let lastRejection = LastRejection()
        let keyword = item.keyword, language = item.language
        // A base model's reply that copies its worked example is about another subject (`ExampleCopy`).
        let copy = settings.llm.promptsAsDocument ? DocumentPrompt.copy(of: Aspect.resolved(item.aspect).documentSection) : nil
        let check: @Sendable (String) -> DescriptionRejection? = { text in
            validator.check(text, keyword: keyword, language: language)
                ?? copy?.problem(in: text, keyword: keyword).map { DescriptionRejection(ExampleCopy.reason, $0) }
        }
        // Under a local model an end-of-turn marker ends the reply (what follows is an invented next turn); any
        // other chat-template token, and any from a remote model, is rejected by `ReplyHygiene`.
        let local = settings.llm.usesLocalModel
        let turn: @Sendable (String) -> String? = { answer in local ? ReplyHygiene.beforeEndOfTurn(answer) : nil }
        request.validator = { answer in
            let text = (turn(answer) ?? answer).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let rejection = check(text) else { return nil }
            lastRejection.set(rejection, text: text)
            return "\(rejection.reason.replacingOccurrences(of: "_", with: " ")) (\(rejection.detail))"
        }
        let result: ChatResult
        do {
            result = try await client.complete(request)
        } catch {
            if error.endsItemWork { throw error }
            if error.code == .invalidOutput, let (rejection, text) = lastRejection.get() {
                return .rejected(rejection, text, nil)
            }
            return .failed(error)
        }
        let summary = ChatResultSummary(requestKey: result.requestKey, promptTokens: result.usage.promptTokens,
                                        completionTokens: result.usage.completionTokens, fromCache: result.fromCache)
        let ended = turn(result.text)
        let text = (ended ?? result.text).trimmingCharacters(in: .whitespacesAndNewlines)
        if result.finishReason == "length" && ended == nil {
            let cut = DescriptionRejection("truncated", Self.truncatedDetail(settings.maxTokens))
            // A small local model runs on until cut: under `llm.local.trim_truncated` its last whole sentence stands.
            guard settings.llm.trimsTruncatedReplies, let whole = SentenceTrim.lastWholeSentences(text) else {
                return .rejected(cut, text, summary)
            }
            var trimmedSummary = summary
            trimmedSummary.trimmed = "cut at max_tokens (\(settings.maxTokens)); trimmed to its last whole sentence (\(whole.count) of \(text.count) characters)"
            if let rejection = check(whole) {
                return .rejected(rejection, whole, trimmedSummary)
            }
            return .text(whole, trimmedSummary)
        }
        if let rejection = check(text) {
            return .rejected(rejection, text, summary)
        }
        // Near-duplicates are settled after the run by `DescriptionDeduplication`, in a fixed order, so the
        // outcome does not depend on which request finished first.
        return .text(text, summary)
    }

    /// The detail of a `truncated` rejection: the limit the reply was cut at (a changed limit makes the item pending).
    static func truncatedDetail(_ maxTokens: Int) -> String { "cut at max_tokens (\(maxTokens))" }

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
        var verdict: DescriptionVerifier.Record?
        switch outcome {
        case .accepted(let t, let s, let v):
            (status, text, summary, verdict) = ("accepted", t, s, v)
            if let trimmed = s?.trimmed { (reason, detail) = ("trimmed", trimmed) }
        case .rejected(let rejection, let t, let s, let v):
            (status, text, reason, detail, summary, verdict) = ("rejected", t, rejection.reason, rejection.detail, s, v)
        case .failed(let error):
            // A failed rewrite of a stored description is no decision either: the row stays, pending.
            if item.stored != nil { return }
            (status, reason, detail) = ("failed", error.code.rawValue, error.message)
        case .unverified(let error, let t, let s):
            // No verdict is no decision: a stored description stays as it is, pending for the verifier.
            if item.stored != nil { return }
            (status, text, reason, detail, summary) = ("failed", t, "verify_\(error.code.rawValue)", error.description, s)
        }
        let key = item.key
        if summary == nil, item.stored != nil, status != "failed" {
            // The stored text was judged as it is: its request and tokens stay.
            try DescriptionRow.filter(Column("keyword_id") == key.keywordID && Column("image_sha256") == key.imageSHA256
                                      && Column("aspect") == key.aspect && Column("mode") == key.mode && Column("language") == key.language
                                      && Column("variant") == key.variant && Column("template_sha256") == key.templateSHA256
                                      && Column("model") == settings.model)
                .updateAll(db, Column("status").set(to: status), Column("text").set(to: text), Column("reason").set(to: reason),
                           Column("detail").set(to: detail))
        } else {
            try DescriptionRow(key: key, model: settings.model, text: text, status: status, reason: reason, detail: detail,
                               requestKey: summary?.requestKey, promptTokens: summary?.promptTokens ?? 0,
                               completionTokens: summary?.completionTokens ?? 0).upsert(db)
        }
        if let verdict, let verifier, let text {
            try verifier.row(verdict, subject: key.subject(model: settings.model), text: text, keywordID: item.keywordID,
                             imageSHA256: item.imageSHA256).upsert(db)
        }
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .accepted(_, _, let verdict): return verdict.map { StageOutcomeClass(key: $0.verdict.rawValue) } ?? .ok
        case .rejected(let rejection, _, _, _): return StageOutcomeClass(key: "rejected_\(rejection.reason)")
        case .failed(let error):
            return StageOutcomeClass(key: "failed_\(error.code.rawValue)", failed: true, message: error.description)
        case .unverified(let error, _, _):
            return StageOutcomeClass(key: "failed_verify_\(error.code.rawValue)", failed: true, message: error.description)
        }
    }
}

/// The validator's last rejection of one description request, shared with the client's validation closure.
final class LastRejection: Sendable {
    private let value = Mutex<(DescriptionRejection, String)?>(nil)

    func set(_ rejection: DescriptionRejection, text: String) { value.withLock { $0 = (rejection, text) } }
    func get() -> (DescriptionRejection, String)? { value.withLock { $0 } }
}
