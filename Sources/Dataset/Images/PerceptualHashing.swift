import Foundation

/// The duplicate rule's perceptual hash (64-bit pHash, as `imagehash.phash` computes it) of image bytes, for
/// readers below Filter: `dsbuild check` hashes shard and export images it cannot match to a stored image.
public protocol PerceptualHashing: Sendable {
    /// The pHash of the image's pixels as stored (`upright: false`, what the filter recorded), or after its EXIF
    /// orientation is applied (`upright: true`, what leaves the workspace).
    func perceptualHash(of data: Data, upright: Bool) throws -> UInt64
}
