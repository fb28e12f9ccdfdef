import Dataset
import Foundation

/// Images as the world sends them, made by `ImageFactory`: a PNG with alpha, a greyscale JPEG, a lossless WebP
/// and two EXIF-rotated JPEGs (orientation 6, small; orientation 8, larger than a 256-pixel model side limit).
/// Each has a known upright look, so a test can tell whether a reader sees it upright and in the dataset's format.
public enum WorldImage: String, CaseIterable, Sendable {
    case pngAlpha = "png-alpha.png", grey = "grey.jpg", webp = "lossless.webp"
    case rotated6 = "rotated-6.jpg", rotated8 = "rotated-8.jpg"

    public var data: Data {
        switch self {
        case .pngAlpha:
            // 96×64 RGBA: the top half transparent (black underneath), the bottom half opaque dark blue.
            var px: [UInt8] = []
            for y in 0..<64 { for x in 0..<96 { px += y < 32 ? [0, 0, 0, 0] : [20, 30, UInt8(60 + x % 40), 255] } }
            return ImageFactory.png(width: 96, height: 64, channels: 4, pixels: px)
        case .grey:
            return ImageFactory.blockJPEG(width: 96, height: 64, components: 1) { bx, by in [UInt8((bx * 53 + by * 97 + bx * by * 31) % 256)] }
        case .webp:
            return ImageFactory.webpLossless(width: 96, height: 64) { x, y in
                let h = (x / 8) * 7 + (y / 8) * 13
                return (h % 3 == 0, h % 2 == 0, (x / 8 + y / 8) % 2 == 0)
            }
        case .rotated6:
            // Stored 128×64, left half dark, right half bright; orientation 6 puts the left side on top.
            return ImageFactory.blockJPEG(width: 128, height: 64, orientation: 6) { bx, by in [bx < 8 ? 30 : 220, 128, UInt8(120 + by % 4)] }
        case .rotated8:
            // Stored 640×320, left half bright, right half dark; orientation 8 puts the left side at the bottom.
            // Larger than llm.image_max_side (256): the model request is rotated and downscaled.
            return ImageFactory.blockJPEG(width: 640, height: 320, orientation: 8) { bx, by in [bx < 40 ? 220 : 30, UInt8(124 + bx % 8), 128] }
        }
    }

    public var sha: String { ContentHash.sha256Hex(data) }
}
