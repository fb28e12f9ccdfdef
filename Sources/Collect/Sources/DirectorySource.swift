import Dataset
import Foundation

/// Images already on disk: every file under `root/<keyword>/…` is a candidate for the keyword named by its
/// first-level sub-folder (files directly in `root` belong to `fixedKeyword`). "Downloading" one copies it into
/// the store through the same checks as a download (magic bytes, sha256, probe).
public struct DirectorySource: ImageSource {
    public let name = "directory"
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
        for relative in relativePaths.sorted() {
            let parts = relative.split(separator: "/")
            let keyword = parts.count > 1 ? String(parts[0]) : fallback
            if files[keyword] == nil { order.append(keyword) }
            let url = root.appendingPathComponent(relative)
            files[keyword, default: []].append(Candidate(
                source: "directory", sourceID: relative, imageURL: url.absoluteString, title: url.lastPathComponent,
                extra: ["path": relative], rank: files[keyword, default: []].count))
        }
        self.files = files
        self.keywordOrder = order
    }

    public func declaredKeywords() -> [KeywordEntry] {
        keywordOrder.map { KeywordEntry(text: $0) }
    }

    /// Every file of the keyword's folder; files on disk carry no licence, so the licence filter does not apply.
    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        files[keyword] ?? []
    }
}
