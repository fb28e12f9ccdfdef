import Foundation

/// Makes small JPEG thumbnails with the real codecs. The Filter module implements it; the report receives it
/// from the CLI (modules do not import each other).
public protocol ThumbnailMaking: Sendable {
    /// A JPEG no larger than `maxSide` on its longer side, EXIF orientation applied.
    func thumbnail(fileAt url: URL, maxSide: Int) throws -> Data
}
