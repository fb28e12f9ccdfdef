import Foundation
import Imaging

/// What a header probe learns about an image without decoding its pixels, as the manifest stores it (the
/// `images` row): `ImageProbe`'s facts flattened to strings.
public struct ProbedImage: Sendable, Equatable, Codable {
    /// `jpeg`, `png`, `gif`, `webp`, `bmp`, `avif`, `heif`, `tiff`.
    public var format: String
    /// Stored size, as in the file header.
    public var width: Int
    public var height: Int
    /// Size after applying the EXIF orientation (5–8 swap width and height).
    public var displayWidth: Int
    public var displayHeight: Int
    public var orientation: Int
    public var animated: Bool
    public var frames: Int?
    /// Embedded rights metadata with stable keys (`exif.copyright`, `iptc.credit`, `xmp.plus.data_mining`…).
    public var rights: [String: String]
    /// Other header facts (`progressive`, `bit_depth`, `color`, `interlaced`…).
    public var details: [String: String]

    public init(format: String, width: Int, height: Int, displayWidth: Int, displayHeight: Int, orientation: Int = 1,
                animated: Bool = false, frames: Int? = nil, rights: [String: String] = [:], details: [String: String] = [:]) {
        self.format = format
        self.width = width
        self.height = height
        self.displayWidth = displayWidth
        self.displayHeight = displayHeight
        self.orientation = orientation
        self.animated = animated
        self.frames = frames
        self.rights = rights
        self.details = details
    }

    /// The file extension the image store uses for this format.
    public var fileExtension: String {
        switch format {
        case "jpeg": return "jpg"
        case "heif": return "heic"
        default: return format
        }
    }
}

extension ProbedImage {
    /// Probes the file's header (`ImageProber`); throws `ProbeError`, whose description names the cause (not an
    /// image, truncated, corrupt header…).
    public static func probe(fileAt url: URL) throws -> ProbedImage {
        ProbedImage(try ImageProber.probe(fileAt: url))
    }

    public static func probe(data: Data) throws -> ProbedImage {
        ProbedImage(try ImageProber.probe(data: data))
    }

    /// The header facts the manifest keeps, with the rights under their stable keys.
    public init(_ p: ImageProbe) {
        var details: [String: String] = ["color": p.colorModel.rawValue]
        if let bitDepth = p.bitDepth { details["bit_depth"] = String(bitDepth) }
        if let components = p.components { details["components"] = String(components) }
        if p.hasAlpha { details["alpha"] = "true" }
        if p.progressive { details["progressive"] = "true" }
        if p.arithmetic { details["arithmetic"] = "true" }
        if p.lossless { details["lossless"] = "true" }
        if p.interlaced { details["interlaced"] = "true" }
        self.init(format: p.format.rawValue, width: p.width, height: p.height,
                  displayWidth: p.displayWidth, displayHeight: p.displayHeight, orientation: p.orientation,
                  animated: p.animated, frames: p.frameCount, rights: p.rights.flattened, details: details)
    }
}
