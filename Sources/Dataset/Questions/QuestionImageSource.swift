import Foundation
import Imaging

/// The one rule for where a question file's image may come from (`mcq --import` and `eval --questions` both use
/// it): the file's `image_path` is relative, and after following every symlink (`realpath`) it names a regular file
/// inside the images folder whose first bytes are an image signature (`ImageMagic`). Anything else — an absolute
/// path, a `..` or a symlink leading outside, a device, a text file — is refused, and the refusal never quotes the
/// file's bytes.
public struct QuestionImageSource: Sendable {
    /// The images folder as given (`--images`, or `images/` beside the question file).
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// An image the rule lets through: its real location, bytes and the format its signature names.
    public struct Image: Sendable {
        public let url: URL
        public let data: Data
        public let format: String
    }

    /// Where `path` really is, inside the folder; throws when it is absolute, escapes the folder or does not exist.
    public func resolve(_ path: String) throws(QuestionImageError) -> URL {
        guard !path.isEmpty else { throw QuestionImageError(path: path, reason: "is empty", refused: true) }
        guard !path.hasPrefix("/") else {
            throw QuestionImageError(path: path, reason: "is an absolute path; refused: a question file's images must be relative to its images folder \(folder.path)", refused: true)
        }
        // Lexically first: `..` that climbs above the folder is refused whether or not the target exists.
        var depth = 0
        for component in path.split(separator: "/") {
            if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
            if depth < 0 {
                throw QuestionImageError(path: path, reason: "climbs out of the images folder \(folder.path) with ..; refused: only files inside it are read", refused: true)
            }
        }
        guard let realFolder = Self.realPath(folder.path) else {
            throw QuestionImageError(path: path, reason: "not found: the images folder \(folder.path) does not exist (point --images at the folder holding it)")
        }
        let candidate = (realFolder as NSString).appendingPathComponent(path)
        guard let real = Self.realPath(candidate) else {
            throw QuestionImageError(path: candidate, reason: "not found")
        }
        guard real.hasPrefix(realFolder.hasSuffix("/") ? realFolder : realFolder + "/") else {
            throw QuestionImageError(path: path, reason: "resolves to \(real), outside the images folder \(realFolder); refused: only files inside it are read", refused: true)
        }
        var info = stat()
        guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw QuestionImageError(path: path, reason: "is not a regular file; refused", refused: true)
        }
        return URL(fileURLWithPath: real)
    }

    /// Resolves `path` and reads it; throws unless its first bytes say it is an image.
    public func read(_ path: String) throws(QuestionImageError) -> Image {
        let url = try resolve(path)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw QuestionImageError(path: path, reason: "cannot be read")
        }
        guard let format = ImageMagic.format(of: data.prefix(16)) else {
            throw QuestionImageError(path: path, reason: "is not an image (no JPEG, PNG, GIF, WebP, BMP, TIFF, AVIF or HEIF signature); refused", refused: true)
        }
        return Image(url: url, data: data, format: format)
    }

    static func realPath(_ path: String) -> String? {
        path.withCString { pointer -> String? in
            guard let real = realpath(pointer, nil) else { return nil }
            defer { free(real) }
            return String(cString: real)
        }
    }
}
