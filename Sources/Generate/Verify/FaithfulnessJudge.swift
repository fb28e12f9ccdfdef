import Dataset
import Foundation
import Imaging

/// Asks a vision model, through any `ChatService` (cached, paced and counted like every LLM call), whether a
/// description is true of what it describes, and parses the verdict. Two checks, each with its own template:
///
/// - **image-grounded** (`faithfulness`): the description against its image. One user message of two parts: the
///   template's text followed by `\n\n<description>\n`, the description verbatim, `\n</description>`; then the image
///   as a JPEG data URL — a thumbnail (`Thumbnailer`, EXIF orientation applied, longest side `maxSide`).
/// - **text-only** (`faithfulness_text`): a description written without an image against the accepted
///   image-grounded descriptions of its keyword, for visual contradictions (colour, shape, count). One user message
///   of one text part: the template's text, then each reference as `\n\n<reference>\n…\n</reference>`, then
///   `\n\n<description>\n…\n</description>`. No image.
///
/// Both ask at temperature 0 for the JSON schema `{"unsupported": ["<claim>", …], "verdict":
/// "faithful|minor|unfaithful"}` (`response_format` name `faithfulness_judgement`), purpose `describe.verify`; an
/// `unfaithful` verdict must name at least one claim (else the client re-asks). A request that fails throws
/// `JudgeError`: no verdict, the description stays pending.
public struct FaithfulnessJudge: Sendable {
    /// The completion limit of a verdict request.
    public static let maxTokens = 400

    /// What a description is checked against.
    public enum Basis: String, Sendable {
        /// Its own image (image-grounded descriptions).
        case image
        /// The accepted image-grounded descriptions of its keyword (text-only descriptions).
        case descriptions
    }

    /// A verdict on one description.
    public struct Verdict: Sendable, Equatable {
        /// `faithful`, `minor` or `unfaithful`.
        public var verdict: JudgementVerdict
        /// The claims the judge found unsupported (image) or contradicted (descriptions).
        public var unsupported: [String]
        /// The cache key of the request.
        public var requestKey: String

        /// Accepted as it is: `faithful` or `minor`.
        public var accepts: Bool { verdict != .unfaithful }
    }

    public let service: any ChatService
    public let model: String
    public let imageTemplate: JudgeTemplate
    public let textTemplate: JudgeTemplate
    /// The image's longer side is brought down to this before sending.
    public let maxSide: Int
    /// Ask again instead of answering from the cache (`--refresh`).
    public let refresh: Bool

    public init(service: any ChatService, model: String, workspaceRoot: URL?, maxSide: Int = 512, refresh: Bool = false) throws {
        self.service = service
        self.model = model
        imageTemplate = try JudgeTemplate.load("faithfulness", builtin: Self.imagePrompt, workspaceRoot: workspaceRoot)
        textTemplate = try JudgeTemplate.load("faithfulness_text", builtin: Self.textPrompt, workspaceRoot: workspaceRoot)
        self.maxSide = maxSide
        self.refresh = refresh
    }

    /// The settings hash of the verdicts on one basis: model, template and schema.
    public func settingsHash(_ basis: Basis) -> String {
        Judge.settingsHash(Judge.faithfulness.rawValue, model: model,
                           templateSHA256: (basis == .image ? imageTemplate : textTemplate).sha256, schema: Self.schema)
    }

    static let schemaName = "faithfulness_judgement"

    public static let schema = """
        {"type":"object","properties":{"unsupported":{"type":"array","items":{"type":"string"}},\
        "verdict":{"type":"string","enum":["faithful","minor","unfaithful"]}},\
        "required":["unsupported","verdict"],"additionalProperties":false}
        """

    public static let imagePrompt = """
        You are checking a reference description of the {category} "{keyword}" against the photograph attached to this \
        message. The description is between <description> and </description> below.

        List every claim of the description about what can be seen — colours, shapes, parts, materials, patterns, \
        textures, counts, sizes, what is present — that the photograph does not support or that it contradicts. Quote \
        each claim briefly, in the description's words.

        Out of scope: claims about history, culture, origin, names, meaning, use, preparation, taste, habitat, ecology \
        or behaviour — anything no photograph can show. Do not list them, and do not let them affect the verdict.

        Verdict: "faithful" when every visual claim is supported by the photograph; "minor" when only small details \
        are unsupported and nothing is contradicted; "unfaithful" when a visual claim contradicts the photograph or \
        describes something visible that is not there.

        Answer as JSON: {"unsupported": ["<claim>", ...], "verdict": "faithful" | "minor" | "unfaithful"}.
        """

    public static let textPrompt = """
        You are checking a description of the {category} "{keyword}" that was written without a photograph. Below \
        are descriptions written from photographs of {keyword}, each between <reference> and </reference>; the \
        description to check is between <description> and </description>.

        List every visual claim of the description — colour, shape, count, parts, material, pattern, size — that the \
        photograph-based descriptions contradict. A detail they do not mention is not a contradiction: list only what \
        conflicts with them.

        Out of scope: claims about history, culture, origin, names, meaning, use, preparation, taste, habitat, ecology \
        or behaviour — anything no photograph can show. Do not list them, and do not let them affect the verdict.

        Verdict: "faithful" when no visual claim is contradicted; "minor" when only small details conflict; \
        "unfaithful" when a clear visual claim (a colour, a shape, a count) contradicts them.

        Answer as JSON: {"unsupported": ["<contradicted claim>", ...], "verdict": "faithful" | "minor" | "unfaithful"}.
        """

    /// The description block every request ends its text with.
    public static func descriptionBlock(_ text: String) -> String { "<description>\n\(text)\n</description>" }

    /// One reference block of a text-only request.
    public static func referenceBlock(_ text: String) -> String { "<reference>\n\(text)\n</reference>" }

    /// The verdict in a reply, nil when the reply is not one: a known verdict, a list of claims, and at least one
    /// claim for `unfaithful`.
    public static func parse(_ text: String) -> (verdict: JudgementVerdict, unsupported: [String])? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let name = object["verdict"] as? String, let verdict = JudgementVerdict(rawValue: name),
              [.faithful, .minor, .unfaithful].contains(verdict),
              let claims = object["unsupported"] as? [Any] else { return nil }
        let unsupported = claims.compactMap { ($0 as? String)?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard unsupported.count == claims.count, verdict != .unfaithful || !unsupported.isEmpty else { return nil }
        return (verdict, unsupported)
    }

    /// Judges an image-grounded description against the image at `imageAt`.
    public func judge(description: String, imageAt url: URL, keyword: String, category: String,
                      item: String) async throws(JudgeError) -> Verdict {
        let thumbnail: Data
        do {
            thumbnail = try Thumbnailer(quality: 85).thumbnail(fileAt: url, maxSide: maxSide)
        } catch {
            throw JudgeError(.unreadableImage, judge: .faithfulness, item: item, detail: "cannot make the thumbnail of \(url.lastPathComponent): \(error)")
        }
        let text = imageTemplate.render(["keyword": keyword, "category": category]) + "\n\n" + Self.descriptionBlock(description)
        return try await ask([.text(text), .image(thumbnail, mimeType: "image/jpeg")], item: item)
    }

    /// Judges a text-only description against `references` (accepted image-grounded descriptions of its keyword).
    public func judge(description: String, references: [String], keyword: String, category: String,
                      item: String) async throws(JudgeError) -> Verdict {
        let blocks = references.map(Self.referenceBlock).joined(separator: "\n\n")
        let text = textTemplate.render(["keyword": keyword, "category": category]) + "\n\n" + blocks + "\n\n"
            + Self.descriptionBlock(description)
        return try await ask([.text(text)], item: item)
    }

    private func ask(_ parts: [ChatMessage.Part], item: String) async throws(JudgeError) -> Verdict {
        let request = ChatRequest(
            model: model, messages: [ChatMessage(role: .user, parts: parts)], temperature: 0, maxTokens: Self.maxTokens,
            responseFormat: .jsonSchema(name: Self.schemaName, schema: Self.schema), purpose: "describe.verify",
            validator: { text in
                Self.parse(text) == nil
                    ? "answer with a JSON object whose `verdict` is faithful, minor or unfaithful and whose `unsupported` lists the claims (at least one for unfaithful)"
                    : nil
            },
            refresh: refresh, replaysOnlyValidAnswers: true)
        let result: ChatResult
        do {
            result = try await service.complete(request)
        } catch {
            throw JudgeError(judge: .faithfulness, item: item, chat: error)
        }
        guard let parsed = Self.parse(result.text) else {
            throw JudgeError(.noVerdict, judge: .faithfulness, item: item, detail: "the reply is not a verdict: \(result.text.prefix(120))")
        }
        return Verdict(verdict: parsed.verdict, unsupported: parsed.unsupported, requestKey: result.requestKey)
    }
}
