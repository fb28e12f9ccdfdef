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
            let origin = origins.origin(of: use.image.sha, keywordID: use.keywordID ?? -1)
            let terms = LicenseTerms(id: origin?.license, url: origin?.licenseURL)
            let modifications = Self.modifications(use.image, renderer: renderer)
            var entry = PublishedImage(image: use.image, keyword: use.keyword, origin: origin, terms: terms, modifications: modifications,
                                       refusal: terms.refusal(commercial: commercial, modifications: modifications))
            entry.rows = 1
            byHash[use.image.sha] = entry
        }
    }

    /// The renderer's plan for `image`, in words (sizes are filled in when it is rendered).
    static func modifications(_ image: StoredImage, renderer: ImageRenderer) -> [String] {
        renderer.reasons(image).map { reason in
            switch reason {
            case .orientation: "rotated upright (EXIF orientation \(image.orientation))"
            case .format: "re-encoded from \(image.format.uppercased()) to \(renderer.settings.format.fileExtension.uppercased())"
            case .resize: "resized"
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
            entry.writtenSHA256 = rendered.writtenSHA256
            entry.fileExtension = rendered.fileExtension
            entry.width = rendered.width
            entry.height = rendered.height
            if rendered.reasons.contains(.resize) {
                entry.modifications = entry.modifications.map {
                    $0 == "resized" ? "resized from \(entry.image.width ?? 0)×\(entry.image.height ?? 0) to \(rendered.width ?? 0)×\(rendered.height ?? 0)" : $0
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
