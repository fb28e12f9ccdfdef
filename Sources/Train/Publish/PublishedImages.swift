import Dataset
import Foundation

/// One image the release would carry: where it came from, its licence, what the renderer does to it, and whether
/// the licence lets it be published that way.
struct PublishedImage {
    var image: StoredImage
    /// The keyword it is first published under.
    var keyword: String
    var origin: ImageOrigin?
    var terms: LicenseTerms
    /// What the renderer does to it, in words (`rotated upright (EXIF orientation 6)`, `resized to 512×384`).
    var modifications: [String]
    /// Why it is left out (nil: it is published).
    var refusal: String?
    /// Why it could not be rendered (a missing or corrupt file): left out, and the run fails.
    var failure: String?
    /// The written bytes' hash, extension and size (set when rendered).
    var writtenSHA256 = ""
    var fileExtension = ""
    var width: Int?
    var height: Int?
    /// The file the parquet bridge reads its bytes from.
    var file: URL?
    /// How many rows carry it (or would have).
    var rows = 0

    /// The image's name inside the parquet files (`<stored sha>.<ext>`).
    var name: String { "\(image.sha).\(fileExtension)" }
}

/// Decides, renders and stages the images of a release: each image's licence is weighed against the requested use
/// and what the renderer does to it before any pixel is touched; a published image is rendered once (upright, in
/// the dataset's format, resized when asked) and its bytes staged where the parquet bridge reads them — an image
/// copied unchanged is read from the workspace store itself.
struct PublishedImages {
    private(set) var byHash: [String: PublishedImage] = [:]

    /// Registers the images in `uses` (stored image and the keyword it appears under, in row order).
    init(uses: [(image: StoredImage, keyword: String, keywordID: Int64?)], origins: ImageProvenance, renderer: ImageRenderer,
         commercial: Bool) {
        for use in uses {
            if byHash[use.image.sha] != nil {
                byHash[use.image.sha]!.rows += 1
                continue
            }
            let (origin, terms, conflict) = Self.weigh(origins.origins(of: use.image.sha), preferred: use.keywordID)
            let modifications = Self.modifications(use.image, renderer: renderer)
            var entry = PublishedImage(image: use.image, keyword: use.keyword, origin: origin, terms: terms, modifications: modifications,
                                       refusal: conflict ?? terms.refusal(commercial: commercial, modifications: modifications))
            entry.rows = 1
            byHash[use.image.sha] = entry
        }
    }

    /// One image's licence over all its origins (the same bytes reached from several pages or keywords): when they
    /// all give the same terms, those, crediting every distinct author; when they disagree, the image is left out
    /// with the reason (a permissive origin never launders a restrictive one).
    static func weigh(_ all: [ImageOrigin], preferred keywordID: Int64?) -> (ImageOrigin?, LicenseTerms, String?) {
        let ordered = all.filter { $0.keywordID == keywordID } + all.filter { $0.keywordID != keywordID }
        guard var origin = ordered.first else { return (nil, LicenseTerms(id: nil, url: nil), nil) }
        // The source's own spelling where collect kept it, read with today's rules; else the stored id.
        let terms = ordered.map { LicenseTerms(id: $0.rawLicense ?? $0.license, url: $0.licenseURL) }
        let first = terms[0]
        if let other = terms.firstIndex(where: { $0.id != first.id || $0.version != first.version || $0.conflict != first.conflict }) {
            func who(_ i: Int) -> String { "\(terms[i].displayName) (\(ordered[i].author ?? "unknown author"), \(ordered[i].pageURL ?? ordered[i].source ?? "no page"))" }
            return (origin, first, "conflicting licence: its sources give it as \(who(0)) and as \(who(other)); left out")
        }
        var authors: [String] = []
        for author in ordered.compactMap(\.author) where !authors.contains(author) { authors.append(author) }
        if authors.count > 1 { origin.author = authors.joined(separator: "; ") }
        return (origin, first, nil)
    }

    /// The renderer's plan for `image`, in words (sizes are filled in when it is rendered).
    static func modifications(_ image: StoredImage, renderer: ImageRenderer) -> [String] {
        renderer.reasons(image).map { reason in
            switch reason {
            case .orientation: "rotated upright (EXIF orientation \(image.orientation))"
            case .format: "re-encoded from \(image.format.uppercased()) to \(renderer.settings.format.fileExtension.uppercased())"
            case .resize: renderer.settings.resize?.mode == .centerCrop ? "cropped to the centre and resized" : "resized"
            case .bitDepth: "reduced to 8 bits per channel"
            }
        }
    }

    func allows(_ sha: String) -> Bool { byHash[sha].map { $0.refusal == nil && $0.failure == nil } ?? false }

    var published: [PublishedImage] { byHash.values.filter { $0.refusal == nil && $0.failure == nil }.sorted { $0.image.sha < $1.image.sha } }
    /// One line per image that could not be rendered, naming it and the cause.
    var failures: [String] {
        byHash.values.compactMap { i in i.failure.map { "publish: image \(i.image.sha.prefix(12)) (\(i.image.path), keyword \(i.keyword)) left out: \($0)" } }.sorted()
    }
    var refused: [PublishedImage] { byHash.values.filter { $0.refusal != nil }.sorted { $0.image.sha < $1.image.sha } }

    /// Renders every published image; a re-encoded one is staged under `staging` (rewritten only when its bytes
    /// changed), an unchanged one is read from the store.
    mutating func render(with renderer: ImageRenderer, workspace: Workspace, staging: URL, progress: ProgressReporter,
                           delay: Duration = .zero) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        for sha in byHash.keys.sorted() where byHash[sha]!.refusal == nil {
            try Task.checkCancellation()
            var entry = byHash[sha]!
            defer {
                progress.advance(failed: byHash[sha]?.failure != nil)
                if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
            }
            let rendered: RenderedImage
            do {
                rendered = try renderer.render(entry.image)
            } catch {
                entry.failure = "\(error)"
                byHash[sha] = entry
                continue
            }
            // What is published must be what was stored: a file changed in the store (same size, other bytes) is
            // named and left out, never published under the stored image's name and credit.
            let storedBytes = rendered.reasons.isEmpty ? rendered.data : (try? Data(contentsOf: workspace.imageURL(relativePath: entry.image.path)))
            if let storedBytes, ContentHash.sha256Hex(storedBytes) != entry.image.sha {
                entry.failure = "the stored file \(entry.image.path) no longer matches its sha256 (changed or corrupt in the store)"
                byHash[sha] = entry
                continue
            }
            entry.writtenSHA256 = rendered.writtenSHA256
            entry.fileExtension = rendered.fileExtension
            entry.width = rendered.width
            entry.height = rendered.height
            if rendered.reasons.contains(.resize) {
                entry.modifications = entry.modifications.map {
                    $0 == "resized" || $0 == "cropped to the centre and resized" ? "\($0 == "resized" ? "resized" : "cropped to the centre and resized") from \(entry.image.width ?? 0)×\(entry.image.height ?? 0) to \(rendered.width ?? 0)×\(rendered.height ?? 0)" : $0
                }
            }
            if rendered.reasons.isEmpty {
                entry.file = workspace.imageURL(relativePath: entry.image.path)
            } else {
                let file = staging.appendingPathComponent(entry.name)
                if (try? Data(contentsOf: file)) != rendered.data { try AtomicFile.write(rendered.data, to: file) }
                entry.file = file
            }
            byHash[sha] = entry
        }
    }

    /// The image value of a row (`{"path", "file"}`), or nil when the image is left out or unknown.
    func value(_ sha: String) -> [String: Any]? {
        guard let entry = byHash[sha], entry.refusal == nil, entry.failure == nil, let file = entry.file else { return nil }
        return ["path": entry.name, "file": file.path]
    }

    /// Written-bytes hashes by stored hash (what a parquet file's plan depends on).
    var writtenHashes: [String: String] { byHash.compactMapValues { $0.writtenSHA256.isEmpty ? nil : $0.writtenSHA256 } }
}
