import Dataset
import Foundation
import Imaging

/// Thumbnails and full images for the review pages, made by the codecs (EXIF orientation applied, so upright)
/// and cached as JPEG under `<workspace>/review/`, keyed by the image's hash (content-addressed: never stale).
struct ReviewImages: Sendable {
    let workspace: Workspace
    static let thumbnailSide = 192
    static let fullSide = 2048

    var cacheDirectory: URL { workspace.root.appendingPathComponent("review") }

    /// The JPEG of image `sha256` no larger than `side` on its longer side (nil: no such image).
    func jpeg(sha256: String, side: Int) async throws -> Data? {
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else { return nil }
        let folder = cacheDirectory.appendingPathComponent(side == Self.thumbnailSide ? "thumbs" : "full")
        let cached = folder.appendingPathComponent("\(sha256).jpg")
        // Only a regular file (lstat: a symlink planted in the cache is not followed) in a folder that is no symlink.
        if Self.isRegularFile(cached), !Self.isSymlink(folder), let data = try? Data(contentsOf: cached) { return data }
        let path = try await workspace.manifest.asyncRead { db in
            try String.fetchOne(db, sql: "SELECT path FROM images WHERE sha256 = ?", arguments: [sha256])
        }
        guard let path else { return nil }
        let data = try Thumbnailer().thumbnail(fileAt: workspace.imageURL(relativePath: path), maxSide: side)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if !Self.isSymlink(folder) { try? data.write(to: cached, options: .atomic) }
        return data
    }

    static func isRegularFile(_ url: URL) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType) == .typeRegular
    }

    static func isSymlink(_ url: URL) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType) == .typeSymbolicLink
    }
}
