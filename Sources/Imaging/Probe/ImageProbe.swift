import Foundation

/// Image container formats the prober recognises.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, gif, webp, bmp, avif, heif, tiff

    /// Conventional file extension for content-addressed storage (`images/ab/<sha>.<ext>`).
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .tiff: "tif"
        default: rawValue
        }
    }
}

/// Colour model as stored in the file (before any decoder conversion).
public enum ColorModel: String, Sendable, Codable {
    case gray, grayAlpha = "gray_alpha", rgb, rgba, ycbcr, cmyk, ycck, palette, unknown
}

/// What a header-only look at an image file tells us. Cheap: no pixel data is read or allocated,
/// so a header claiming 100000 × 100000 is reported as such.
public struct ImageProbe: Sendable, Codable, Equatable {
    public var format: ImageFormat
    /// Size as stored in the file.
    public var width: Int
    public var height: Int
    /// EXIF orientation 1–8 (1 when absent or out of range).
    public var orientation: Int
    /// Size as displayed after applying the orientation (5–8 swap width and height), which is what
    /// Pillow's `ImageOps.exif_transpose` returns.
    public var displayWidth: Int
    public var displayHeight: Int
    public var animated: Bool
    /// Frames, where the header says (APNG acTL, GIF by walking blocks, WebP ANMF); nil when unknown.
    public var frameCount: Int?
    /// Bits per sample (JPEG precision 8/12, PNG 1–16, BMP bits per pixel, …) where cheap.
    public var bitDepth: Int?
    public var colorModel: ColorModel
    /// JPEG/TIFF components (samples per pixel).
    public var components: Int?
    public var hasAlpha: Bool
    /// JPEG: progressive SOF (C2, C6, CA, CE).
    public var progressive: Bool
    /// JPEG: arithmetic-coded SOF (C9–CB, CD–CF).
    public var arithmetic: Bool
    /// JPEG lossless SOF (C3, C7, CB, CF) or WebP VP8L.
    public var lossless: Bool
    /// PNG Adam7 / GIF interlaced first frame.
    public var interlaced: Bool
    /// JPEG: the SOF marker byte (0xC0…0xCF), for diagnostics.
    public var jpegSOF: UInt8?
    public var rights: EmbeddedRights

    public init(
        format: ImageFormat, width: Int, height: Int, orientation: Int = 1, animated: Bool = false,
        frameCount: Int? = nil, bitDepth: Int? = nil, colorModel: ColorModel = .unknown, components: Int? = nil,
        hasAlpha: Bool = false, progressive: Bool = false, arithmetic: Bool = false, lossless: Bool = false,
        interlaced: Bool = false, jpegSOF: UInt8? = nil, rights: EmbeddedRights = EmbeddedRights()
    ) {
        self.format = format
        self.width = width
        self.height = height
        let o = (1...8).contains(orientation) ? orientation : 1
        self.orientation = o
        self.displayWidth = o >= 5 ? height : width
        self.displayHeight = o >= 5 ? width : height
        self.animated = animated
        self.frameCount = frameCount
        self.bitDepth = bitDepth
        self.colorModel = colorModel
        self.components = components
        self.hasAlpha = hasAlpha
        self.progressive = progressive
        self.arithmetic = arithmetic
        self.lossless = lossless
        self.interlaced = interlaced
        self.jpegSOF = jpegSOF
        self.rights = rights
    }

    /// Re-derive the display size after changing `orientation`, `width` or `height`.
    mutating func setOrientation(_ value: Int) {
        orientation = (1...8).contains(value) ? value : 1
        displayWidth = orientation >= 5 ? height : width
        displayHeight = orientation >= 5 ? width : height
    }

    /// Pixels as stored (width × height), computed without overflow for any 32-bit header values.
    public var pixelCount: Int { width.multipliedReportingOverflow(by: height).overflow ? .max : width * height }
}

/// Why a file could not be probed. Each description says what is wrong and what it means for the user.
public enum ProbeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not an image at all; the associated text says what they look like ("looks like HTML").
    case notAnImage(String)
    /// The file ends before the header says it should (usually an interrupted download).
    case truncated(ImageFormat)
    /// The header is inconsistent (bad CRC, impossible size, bad marker); detail says which part.
    case corrupt(ImageFormat, String)
    /// Recognised but not something we can describe (e.g. JPEG with DNL-defined height).
    case unsupported(String)
    /// The file could not be read.
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAnImage(let what): "not an image: \(what)"
        case .truncated(let format): "truncated \(format.rawValue.uppercased()): the file ends inside its header (interrupted download?); fetch it again"
        case .corrupt(let format, let detail): "corrupt \(format.rawValue.uppercased()): \(detail)"
        case .unsupported(let detail): "unsupported image: \(detail)"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        }
    }

    /// A short stable code for manifests and reports.
    public var code: String {
        switch self {
        case .notAnImage: "not_an_image"
        case .truncated: "truncated"
        case .corrupt: "corrupt"
        case .unsupported: "unsupported"
        case .unreadable: "unreadable"
        }
    }
}
