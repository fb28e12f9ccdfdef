import Dataset
import Foundation

/// Images already on disk: every file under `root/<keyword>/…` is a candidate for the keyword named by its
/// first-level sub-folder (files directly in `root` belong to `fixedKeyword`). "Downloading" one copies it into
/// the store through the same checks as a download (magic bytes, sha256, probe).
///
/// Attribution travels in an optional sidecar beside each file, as img2dataset writes them: `photo.json` (or
/// `photo.jpg.json`) with `license`, `license_url`, `author` (or `creator`/`artist`), `page_url` (or `url`) and
/// `title`. Sidecars are not candidates; the licence filter applies to files whose sidecar names a licence.
public struct DirectorySource: ImageSource {
    public let name = DirectorySource.sourceName
    public let root: URL
    let files: [String: [Candidate]]
    let keywordOrder: [String]

    public init(root: URL, fixedKeyword: String? = nil) throws(CollectError) {
        let root = root.standardizedFileURL.resolvingSymlinksInPath()
        self.root = root
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CollectError(.unreadableInput, item: root.path, detail: "not a directory")
        }
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                              options: [.skipsHiddenFiles]) else {
            throw CollectError(.unreadableInput, item: root.path, detail: "cannot list it")
        }
        var relativePaths: [String] = []
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let full = url.standardizedFileURL.resolvingSymlinksInPath().path
            guard full.hasPrefix(root.path + "/") else { continue }
            relativePaths.append(String(full.dropFirst(root.path.count + 1)))
        }
        var files: [String: [Candidate]] = [:]
        var order: [String] = []
        let fallback = fixedKeyword ?? root.lastPathComponent
        let all = Set(relativePaths)
        func sidecar(of relative: String) -> String? {
            let stem = (relative as NSString).deletingPathExtension
            return [relative + ".json", stem + ".json"].first { $0 != relative && all.contains($0) }
        }
        let sidecars = Set(relativePaths.compactMap(sidecar(of:)))
        for relative in relativePaths.sorted() where !sidecars.contains(relative) {
            let parts = relative.split(separator: "/")
            let keyword = parts.count > 1 ? String(parts[0]) : fallback
            if files[keyword] == nil { order.append(keyword) }
            let url = root.appendingPathComponent(relative)
            var candidate = Candidate(
                source: Self.sourceName, sourceID: relative, imageURL: url.absoluteString, title: url.lastPathComponent,
                extra: ["path": relative], rank: files[keyword, default: []].count)
            if let side = sidecar(of: relative) { Self.apply(sidecar: root.appendingPathComponent(side), to: &candidate) }
            files[keyword, default: []].append(candidate)
        }
        self.files = files
        self.keywordOrder = order
    }

    public func declaredKeywords() -> [KeywordEntry] {
        keywordOrder.map { KeywordEntry(text: $0) }
    }

    /// Every file of the keyword's folder; the licence filter applies only to files whose sidecar names a licence.
    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        (files[keyword] ?? []).filter { $0.license == nil || context.licenses.accepts($0.license) }
    }

    /// Reads a sidecar's attribution into the candidate (an unreadable sidecar adds nothing).
    static func apply(sidecar url: URL, to candidate: inout Candidate) {
        guard let data = try? Data(contentsOf: url),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return }
        func field(_ names: String...) -> String? {
            for name in names { if let value = object[name] as? String, !value.trimmingCharacters(in: .whitespaces).isEmpty { return value } }
            return nil
        }
        if let license = field("license", "licence") {
            candidate.license = License.normalize(license) ?? license
            candidate.extra["license_raw"] = license  // as spelled, so publish reads it again with today's rules
        }
        candidate.licenseURL = field("license_url", "licence_url") ?? candidate.licenseURL
        candidate.author = field("author", "creator", "artist") ?? candidate.author
        candidate.pageURL = field("page_url", "url", "foreign_landing_url") ?? candidate.pageURL
        candidate.title = field("title") ?? candidate.title
    }
}

extension DirectorySource: RegisteredSource {
    public static let sourceName = "directory"
    public static let api: SourceAPI? = nil

    /// `collect.sources.directory.…`; `--source-file` and `--keyword` override them.
    public struct Options: SourceOptions {
        /// The folder; relative to the recipe's folder when the recipe names it.
        public var path: String?
        /// The keyword of files directly in the folder (nil: the folder's name).
        public var keyword: String?

        public init() {}

        public static let keys: [SettingKey<Options>] = [
            .string("path", \.path, help: "the folder of images (<keyword>/<file>), relative to the recipe's folder"),
            .string("keyword", \.keyword, help: "the keyword of files directly in the folder (unset: the folder's name)"),
        ]

        public mutating func resolvePaths(_ resolve: (String) -> String) {
            path = path.map(resolve)
        }
    }

    public static func make(_ options: Options, setup: SourceSetup) throws(CollectError) -> DirectorySource {
        guard let path = options.path else {
            throw CollectError(.invalidSetting, item: sourceName, detail: "give the folder with --source-file or collect.sources.directory.path")
        }
        return try DirectorySource(root: URL(fileURLWithPath: path), fixedKeyword: options.keyword)
    }
}
