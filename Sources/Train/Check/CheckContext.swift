import Dataset
import Foundation
import Imaging

/// Everything the checks read, loaded once: the manifest's rows, the shard folder streamed, the exports, and the
/// maps from a shard record back to the row it was made from.
public struct CheckContext {
    /// The workspace or shard folder could not be read at all (as opposed to a violation found in it).
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let item: String
        public let message: String
        public var description: String { "\(item): \(message)" }
    }

    let workspace: Workspace
    let shardsRoot: URL
    /// The duplicate rule's distance (`filter.duplicates.phash_distance`, default 8).
    let phashDistance: Int
    /// `mcq.keep_disputed`: disputed questions may be trained on and scored.
    let keepDisputed: Bool
    /// The stored embeddings and the semantic threshold, when an embedding model is configured and has vectors.
    var semantic: HeldOutImages.Semantic?
    let manifest: ManifestSnapshot
    let shards: ShardContents
    let exports: ExportContents
    let origins: RecordOrigins
    var notes: [String] = []

    var shardIndex: ShardIndex? { shards.index }

    static func load(workspace: Workspace, shards: URL, phashDistance: Int, keepDisputed: Bool = false,
                     semantic match: SemanticMatch? = nil) throws -> CheckContext {
        let manifest: ManifestSnapshot
        do { manifest = try ManifestSnapshot.load(workspace.manifest) } catch {
            throw LoadError(item: workspace.manifest.path.path, message: "cannot read the manifest (\(error))")
        }
        let root = workspace.root.standardizedFileURL.path
        let display: (URL) -> String = { url in
            let path = url.standardizedFileURL.path
            return path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
        }
        let known = Set(manifest.images.keys)
        let contents = ShardContents.load(root: shards, display: display, knownImages: known)
        let exports = contents.index == nil ? ExportContents()
            : ExportContents.load(root: shards, display: display, knownImages: known)
        var context = CheckContext(workspace: workspace, shardsRoot: shards,
                                   phashDistance: phashDistance, keepDisputed: keepDisputed, semantic: nil, manifest: manifest,
                                   shards: contents, exports: exports, origins: RecordOrigins(manifest))
        if contents.index == nil && contents.indexError == nil {
            context.notes.append("no shards at \(display(shards)) (no shards.json): only the manifest was audited")
        }
        if manifest.splitSettings == nil { context.notes.append("the workspace has no stored train/test split yet") }
        if let match {
            do {
                let vectors = try workspace.manifest.read { db in try EmbeddingVectors.load(match.model, workspaceRoot: workspace.root, in: db) }
                if let vectors {
                    context.semantic = HeldOutImages.Semantic(vectors: vectors, threshold: match.threshold)
                    // Images collected after the last `embed` are compared by pHash only: said, not passed silently.
                    let missing = try workspace.manifest.read { db in try vectors.keptImagesWithoutVectors(in: db) }
                    if missing > 0 {
                        context.notes.append("\(missing) kept image\(missing == 1 ? " has" : "s have") no embedding of \(match.model.lastPathComponent): split_disjoint compared \(missing == 1 ? "it" : "them") by pHash only; run `dsbuild embed`")
                    }
                } else {
                    context.notes.append("no embeddings of \(match.model.lastPathComponent) are stored: split_disjoint compared images by pHash only; run `dsbuild embed`")
                }
            } catch {
                throw LoadError(item: match.model.path, message: "cannot read the stored embeddings (\(error))")
            }
        }
        return context
    }

    /// A question's short name for messages: `question <id>`.
    func name(question id: String) -> String { "question \(id)" }

    /// `image <sha>` with its keyword(s), for messages.
    func name(image sha: String) -> String {
        let keywords = manifest.keptPairs.filter { $0.sha256 == sha }.compactMap { manifest.keywords[$0.keywordID] }
        return keywords.isEmpty ? "image \(sha)" : "image \(sha) (\(keywords.sorted().joined(separator: ", ")))"
    }
}

/// Maps what the shards and exports hold back to manifest rows: by the stable ids `ShardSampleBuilder` derives
/// (`t-`/`p-` + a hash of the row's natural key), and, for copies without an id (LLaMA-Factory, OpenAI) or made
/// by another id scheme, by content (the question's stem and options; the description's text).
struct RecordOrigins {
    var questionByRecordID: [String: String] = [:]
    var descriptionByRecordID: [String: Int] = [:]
    /// By stem and text as shards write them (placeholder tokens neutralised).
    var questionsByStem: [String: [String]] = [:]
    var descriptionsByText: [String: [Int]] = [:]

    init(_ manifest: ManifestSnapshot) {
        for id in manifest.questionIDs {
            let hash = ShardSampleBuilder.shortHash(["qa", id])
            questionByRecordID["t-" + hash] = id
            questionByRecordID["p-" + hash] = id
            if let q = manifest.questions[id] { questionsByStem[ImageReference.neutralised(q.question), default: []].append(id) }
        }
        for (i, d) in manifest.descriptions.enumerated() {
            let ident = ["description", d.keyword, d.imageSHA256, d.aspect, d.mode, d.language, "\(d.variant)", d.templateSHA256, d.model]
            descriptionByRecordID["t-" + ShardSampleBuilder.shortHash(ident)] = i
            if !d.imageSHA256.isEmpty { descriptionByRecordID["p-" + ShardSampleBuilder.shortHash(ident + [d.imageSHA256])] = i }
            if let text = d.text { descriptionsByText[ImageReference.neutralised(text), default: []].append(i) }
        }
    }
}

/// A multiple-choice question as a shard record or export holds it: the user turn in the
/// `ChatTemplates.mcqPrompt` layout and the assistant's answer letter.
struct QACopy: Equatable {
    var stem: String
    var options: [String]
    var answer: Int?

    /// Parses the first user turn and the first assistant turn after it; nil when the user turn is not an MCQ prompt.
    static func parse(_ turns: [ChatTurn]) -> QACopy? {
        guard let userIndex = turns.firstIndex(where: { $0.role == "user" }) else { return nil }
        var prompt = turns[userIndex].content
        for token in ImageReference.tokens where prompt.hasPrefix(token) {
            prompt = String(prompt.dropFirst(token.count))
            if prompt.hasPrefix("\n") { prompt.removeFirst() }
        }
        var lines = prompt.components(separatedBy: "\n")
        guard lines.count >= 4, lines.last == ChatTemplates.mcqSuffix else { return nil }
        lines.removeLast()
        // The options are the run of "A. …", "B. …" lines that ends just before the suffix.
        var split: Int?
        for start in stride(from: lines.count - 2, through: 1, by: -1) {
            let tail = Array(lines[start...])
            guard tail.count <= ChatTemplates.letters.count else { break }
            let ok = tail.enumerated().allSatisfy { $0.element.hasPrefix("\(ChatTemplates.letters[$0.offset]). ") }
            if ok { split = start }
        }
        guard let split else { return nil }
        let options = lines[split...].enumerated().map { String($0.element.dropFirst(ChatTemplates.letters[$0.offset].count + 2)) }
        let stem = lines[..<split].joined(separator: "\n")
        var answer: Int?
        if let reply = turns[(userIndex + 1)...].first(where: { $0.role == "assistant" }) {
            let text = reply.content.trimmingCharacters(in: .whitespacesAndNewlines)
            if let first = text.first.map(String.init), let i = ChatTemplates.letters.firstIndex(of: first),
               text.count == 1 || text.dropFirst().hasPrefix(".") || text.dropFirst().hasPrefix(")") {
                answer = i
            }
        }
        return QACopy(stem: stem, options: options, answer: answer)
    }
}
