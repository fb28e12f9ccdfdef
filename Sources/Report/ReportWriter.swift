import Dataset
import Foundation
import Imaging

/// Writes the static HTML report: one self-contained folder (`index.html` + `thumbs/`), no server and no
/// external assets. Thumbnails are small JPEGs made with the codecs, never the full images.
public struct ReportWriter: Sendable {
    /// The filter thresholds to draw on the histograms.
    public struct Thresholds: Sendable {
        public var minShortSide: Int?
        public var aspectRatio: (Double, Double)?

        public init(minShortSide: Int? = 512, aspectRatio: (Double, Double)? = (0.5, 2.0)) {
            self.minShortSide = minShortSide
            self.aspectRatio = aspectRatio
        }
    }

    /// What was written.
    public struct Result: Sendable {
        public let indexURL: URL
        public let thumbnails: Int
        /// Thumbnails that could not be made of images kept for some keyword: a failure (the exit status).
        public let thumbnailFailures: [String]
        /// Images the filter dropped (truncated, undecodable, too large) that have no thumbnail: expected, not a
        /// failure; the report shows them without one.
        public let droppedWithoutThumbnail: Int
    }

    public let workspace: Workspace
    /// The codec-made thumbnails (EXIF orientation applied).
    public var thumbnailer = Thumbnailer()
    public let thresholds: Thresholds
    public var thumbnailSide = 160

    public init(workspace: Workspace, thresholds: Thresholds) {
        self.workspace = workspace
        self.thresholds = thresholds
    }

    public func write(to directory: URL, progress: ProgressReporter) throws -> Result {
        let data = try workspace.manifest.read { db in try ReportData.load(db) }
        let thumbs = directory.appendingPathComponent("thumbs")
        try FileManager.default.createDirectory(at: thumbs, withIntermediateDirectories: true)

        var made = 0
        var failures: [String] = []
        var droppedWithoutThumbnail = 0
        let keptAnywhere = Set(data.keywords.flatMap(\.images).filter(\.kept).map(\.sha256))
        var available: Set<String> = []
        let images = Dictionary(data.keywords.flatMap(\.images).map { ($0.sha256, $0) }, uniquingKeysWith: { a, _ in a })
        progress.start("thumbnails", total: images.count)
        for (sha, image) in images.sorted(by: { $0.key < $1.key }) {
            let target = thumbs.appendingPathComponent("\(sha).jpg")
            defer { progress.advance() }
            if FileManager.default.fileExists(atPath: target.path) {
                available.insert(sha)
                continue
            }
            do {
                let jpeg = try thumbnailer.thumbnail(fileAt: workspace.imageURL(relativePath: image.path), maxSide: thumbnailSide)
                try jpeg.write(to: target, options: .atomic)
                available.insert(sha)
                made += 1
            } catch {
                if keptAnywhere.contains(sha) {
                    failures.append("thumbnail \(sha.prefix(12)) (\(image.path)): \(error)")
                } else {
                    droppedWithoutThumbnail += 1
                }
            }
        }
        progress.finish()

        let html = ReportHTML(data: data, thresholds: thresholds, thumbnails: available, generated: Date()).render()
        let index = directory.appendingPathComponent("index.html")
        try Data(html.utf8).write(to: index, options: .atomic)
        return Result(indexURL: index, thumbnails: made, thumbnailFailures: failures, droppedWithoutThumbnail: droppedWithoutThumbnail)
    }
}
