import Dataset
import Foundation
import GRDB
import Imaging

/// A stored image as the manifest knows it: where it is, its format, its EXIF orientation and display size.
struct StoredImage: Sendable {
    var sha: String
    var path: String
    /// Normalised extension (`jpg`, `png`, `webp`, …).
    var format: String
    /// The source's EXIF orientation (1 when it has none).
    var orientation: Int
    var bytes: Int
    /// Upright size (EXIF orientation applied).
    var width: Int?
    var height: Int?
    /// The source's EXIF as img2dataset writes it (a JSON object string of the tags dsbuild reads), or nil.
    var exif: String? = nil

    /// Every stored image by hash.
    static func all(in db: Database) throws -> [String: StoredImage] {
        try fetch(db, sql: columns, arguments: [])
    }

    /// The stored images kept under some keywords (under these keywords, by hash).
    static func kept(under keywordIDs: [Int64], in db: Database) throws -> [String: StoredImage] {
        guard !keywordIDs.isEmpty else { return [:] }
        return try fetch(db, sql: columns + """
             WHERE sha256 IN (SELECT image_sha256 FROM kept_pairs WHERE keyword_id IN (\(KeptPairs.placeholders(keywordIDs.count))))
            """, arguments: StatementArguments(keywordIDs))
    }

    private static let columns = """
        SELECT sha256, path, format, bytes, COALESCE(display_width, width) AS w, COALESCE(display_height, height) AS h, orientation, rights
          FROM images
        """

    private static func fetch(_ db: Database, sql: String, arguments: StatementArguments) throws -> [String: StoredImage] {
        var out: [String: StoredImage] = [:]
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let sha: String = row["sha256"]
            out[sha] = StoredImage(sha: sha, path: row["path"], format: ImageFormatName.normalized(row["format"] ?? "jpg"),
                                   orientation: (row["orientation"] as Int?) ?? 1, bytes: row["bytes"] ?? 0,
                                   width: row["w"], height: row["h"],
                                   exif: Img2DatasetEXIF.json(orientation: row["orientation"], rights: row["rights"]))
        }
        return out
    }
}

/// How images leave the workspace: one format per dataset, upright, optionally resized (`shards.image_format`,
/// `shards.background`, `shards.resize`).
public struct ImageOutputSettings: Sendable, Equatable {
    public var resize: ImageTransformRequest?
    public var format: ImageOutputFormat = .jpeg
    public var background: RGBColor = .white
    /// Quality of a JPEG re-encode made for orientation or format (a resize uses its own).
    public var quality = 90

    public init(resize: ImageTransformRequest? = nil, format: ImageOutputFormat = .jpeg, background: RGBColor = .white, quality: Int = 90) {
        self.resize = resize
        self.format = format
        self.background = background
        self.quality = quality
    }

    var request: ImageRenderRequest {
        ImageRenderRequest(resize: resize, format: format, quality: resize?.quality ?? quality, background: background)
    }

    /// Identifies the settings in shard plans (a change makes the paired shards pending again).
    var planKey: String {
        let r = resize.map { "\($0.mode.rawValue):\($0.size):\($0.quality)" } ?? "none"
        return "\(r)|\(format.rawValue)|\(background)|\(quality)"
    }

    var json: [String: Any] {
        var resizeJSON: Any = "none"
        if let resize { resizeJSON = ["mode": resize.mode.rawValue, "size": resize.size, "quality": resize.quality] as [String: Any] }
        return ["resize": resizeJSON, "format": format.rawValue, "extension": format.fileExtension,
                "background": background.description, "quality": quality]
    }
}

/// Why an image was re-encoded rather than copied byte for byte.
enum ReencodeReason: String, Sendable, CaseIterable {
    /// Its EXIF orientation was not 1: pixels rotated, tag gone.
    case orientation
    /// Its format was not the dataset's.
    case format
    /// `--resize` was asked for.
    case resize
    /// Its samples were 16-bit (a PNG): written at 8 bits, which every reader decodes as the image.
    case bitDepth = "bit_depth"
}

/// An image as it is written: the bytes, their extension and size, and what was done to it.
struct RenderedImage: Sendable {
    var data: Data
    var fileExtension: String
    var width: Int?
    var height: Int?
    var reasons: [ReencodeReason]
    var writtenSHA256: String

    var orientationApplied: Bool { reasons.contains(.orientation) }
    var mimeType: String { Evaluator.mimeType(fileExtension) }
}

/// Renders stored images for shards and exports. An image that is upright, already in the dataset's format and
/// not to be resized is copied byte for byte; any other is decoded, rotated, resized and encoded by
/// `ImageTransformer` (deterministic: same bytes in, same bytes out).
struct ImageRenderer: Sendable {
    let workspace: Workspace
    let settings: ImageOutputSettings

    /// What must be done to `image` (empty: copy it).
    func reasons(_ image: StoredImage) -> [ReencodeReason] {
        var out: [ReencodeReason] = []
        if image.orientation != 1 { out.append(.orientation) }
        if image.format != settings.format.fileExtension { out.append(.format) }
        if settings.resize != nil { out.append(.resize) }
        return out
    }

    func render(_ image: StoredImage) throws -> RenderedImage {
        let url = workspace.imageURL(relativePath: image.path)
        guard let original = try? Data(contentsOf: url) else {
            throw ShardError(.missingImage, "image \(image.sha) (\(image.path)) is missing from the workspace store; rerun collect")
        }
        // The store is content-addressed: bytes that no longer hash to the image's sha256 were changed after collect
        // (an edited file, a hard link written through); nothing is written from them. (A stand-in for a file outside
        // the store, with no stored size, is not checked.)
        if image.bytes > 0, ContentHash.sha256Hex(original) != image.sha {
            throw ShardError(.write, "image \(image.sha) (\(image.path)) no longer matches its sha256 in the workspace store: it was changed after it was stored; restore it or rerun collect")
        }
        var reasons = reasons(image)
        // A 16-bit PNG copied as it is reaches readers as Pillow's `I;16`, which `convert("RGB")` turns white: decode
        // it to 8 bits like any other.
        if reasons.isEmpty, Self.isSixteenBitPNG(original) { reasons = [.bitDepth] }
        if reasons.isEmpty {
            return RenderedImage(data: original, fileExtension: image.format, width: image.width, height: image.height,
                                 reasons: [], writtenSHA256: image.sha)
        }
        let out: TransformedImage
        do {
            out = try ImageTransformer().render(original, format: image.format, request: settings.request)
        } catch {
            throw ShardError(.write, "image \(image.sha.prefix(12)) (\(image.path)) cannot be re-encoded: \(error)")
        }
        return RenderedImage(data: out.data, fileExtension: ImageFormatName.normalized(out.format), width: out.width, height: out.height,
                             reasons: reasons, writtenSHA256: ContentHash.sha256Hex(out.data))
    }

    /// Whether `data` is a PNG with 16-bit samples (IHDR's bit depth, byte 24).
    static func isSixteenBitPNG(_ data: Data) -> Bool {
        let d = [UInt8](data.prefix(25))
        return d.count == 25 && d[0] == 0x89 && d[1] == 0x50 && d[12...15].elementsEqual("IHDR".utf8) && d[24] == 16
    }

    /// Counts over distinct images, from the plan alone (the same on a resumed run). `images` are distinct
    /// images, or stand-ins for groups of them (what is counted depends only on an image's format and orientation),
    /// each with how many it stands for.
    static func counts(_ images: [(image: StoredImage, count: Int)], renderer: ImageRenderer) -> [String: Int] {
        var counts = ["images": 0, "copied": 0, "reencoded_for_orientation": 0, "reencoded_for_format": 0, "resized": 0]
        for (image, n) in images {
            let reasons = renderer.reasons(image)
            counts["images", default: 0] += n
            if reasons.isEmpty { counts["copied", default: 0] += n }
            if reasons.contains(.orientation) { counts["reencoded_for_orientation", default: 0] += n }
            if reasons.contains(.format) { counts["reencoded_for_format", default: 0] += n }
            if reasons.contains(.resize) { counts["resized", default: 0] += n }
        }
        return counts
    }
}

/// The images one `shards` run re-encoded, by stored sha. An image is in several samples, often of several shards,
/// and in several exports; rendering it again for each (read, decode, turn upright, encode; with
/// `--image-format png` a deflate of the whole image every time) was most of a run that re-encodes. An image
/// written as it is stored is not held: reading it again is one file read, and holding every such image grew a
/// run's memory with the workspace (up to the bound). Bounded at 128 MiB (then it starts over); the shards and the
/// exports are written one after another, by one thread.
final class RenderedImages: @unchecked Sendable {
    private var images: [String: RenderedImage] = [:]
    private var bytes = 0

    func render(_ image: StoredImage, with renderer: ImageRenderer) throws -> RenderedImage {
        if let hit = images[image.sha] { return hit }
        let rendered = try renderer.render(image)
        if rendered.reasons.isEmpty { return rendered }
        if bytes + rendered.data.count > 128 << 20 { images.removeAll(); bytes = 0 }
        images[image.sha] = rendered
        bytes += rendered.data.count
        return rendered
    }
}
