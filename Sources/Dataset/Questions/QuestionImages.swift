import Foundation
import GRDB
import Imaging

/// What went wrong with one question's image: which file, and why. `refused`: the file breaks
/// `QuestionImageSource`'s rule (outside the images folder, not an image), as opposed to missing or unreadable.
public struct QuestionImageError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public let refused: Bool
    public init(path: String, reason: String, refused: Bool = false) {
        self.path = path
        self.reason = reason
        self.refused = refused
    }
    public var description: String { "image \(path): \(reason)" }
}

/// An imported question's image, stored content-addressed in the workspace (`images/ab/<sha256>.<ext>`); `record`
/// adds its `images` row, as a collected image has.
public struct StoredQuestionImage: Sendable {
    public let sha256: String
    public let path: String
    public let bytes: Int
    public let probe: ProbedImage

    /// Stores an image `QuestionImageSource` let through (probed first: a file whose header does not parse is refused).
    public static func store(_ image: QuestionImageSource.Image, in workspace: Workspace) throws(QuestionImageError) -> StoredQuestionImage {
        let url = image.url, data = image.data
        let probe: ProbedImage
        do { probe = try ProbedImage.probe(data: data) } catch {
            throw QuestionImageError(path: url.path, reason: "is not a readable \(image.format) image; refused", refused: true)
        }
        let sha = ContentHash.sha256Hex(data)
        let temporary = workspace.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).part")
        do {
            try FileManager.default.createDirectory(at: workspace.temporaryDirectory, withIntermediateDirectories: true)
            try data.write(to: temporary)
            let path = try workspace.storeImage(temporaryFile: temporary, sha256: sha, fileExtension: probe.fileExtension)
            return StoredQuestionImage(sha256: sha, path: path, bytes: data.count, probe: probe)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw QuestionImageError(path: url.path, reason: "cannot be stored in the workspace (\(error))")
        }
    }

    /// The image's `images` row (kept if the image is already known).
    public func record(in db: Database) throws {
        try ImageRow(sha256: sha256, path: path, bytes: bytes, probe: probe).insertIfNew(db)
    }
}

/// The `images/` folder written beside an exported question file: each image once, upright (EXIF orientation
/// applied by `ImageTransformer` when it is not 1; other images copied byte for byte), named by the name
/// the question file gave it when that is free, else `<sha256>.<ext>`.
public final class QuestionImageFolder {
    public let directory: URL
    /// Images written, and of them re-encoded upright.
    public private(set) var written = 0
    public private(set) var rotated = 0
    private var placedBySHA: [String: (name: String, sha256: String)] = [:]
    private var shaByName: [String: String] = [:]

    public init(directory: URL) {
        self.directory = directory
    }

    /// Places the stored image `source` (sha256 `sha`, EXIF `orientation`, longest side `longestSide` in pixels)
    /// and returns its name in the folder and the sha256 of the bytes written there (the stored one's unless it was
    /// turned upright).
    public func place(sha: String, source: URL, orientation: Int?, longestSide: Int?, preferredName: String?) throws(QuestionImageError) -> (name: String, sha256: String) {
        if let placed = placedBySHA[sha] { return placed }
        var data: Data
        do { data = try Data(contentsOf: source) } catch {
            throw QuestionImageError(path: source.path, reason: "is in the manifest but cannot be read from the store")
        }
        var ext = source.pathExtension.isEmpty ? "jpg" : source.pathExtension
        var reencoded = false
        if let orientation, orientation > 1 {
            do {
                guard let side = longestSide, side > 0 else { throw QuestionImageError(path: source.path, reason: "has no recorded size") }
                // keep_ratio at the image's own longest side: orientation applied, no scaling.
                let upright = try ImageTransformer().transform(data, format: ext, request: ImageTransformRequest(mode: .keepRatio, size: side, quality: 95))
                data = upright.data
                ext = upright.format
                reencoded = true
                rotated += 1
            } catch {
                throw QuestionImageError(path: source.path, reason: "cannot be turned upright (\(error))")
            }
        }
        var name = "\(sha).\(ext)"
        if let preferred = preferredName.map({ URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }),
           !preferred.isEmpty, !preferred.hasPrefix("."), shaByName["\(preferred).\(ext)"] == nil {
            name = "\(preferred).\(ext)"
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: directory.appendingPathComponent(name), options: .atomic)
        } catch {
            throw QuestionImageError(path: directory.appendingPathComponent(name).path, reason: "cannot be written (\(error.localizedDescription))")
        }
        written += 1
        let placed = (name: name, sha256: reencoded ? ContentHash.sha256Hex(data) : sha)
        placedBySHA[sha] = placed
        shaByName[name] = sha
        return placed
    }
}
