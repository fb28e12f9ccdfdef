import Foundation

/// What the caller wants: a mode (`keep_ratio`, `center_crop`, `border`), the target size, and the re-encode quality.
public struct ImageTransformRequest: Sendable, Equatable, Hashable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Longest side scaled to `size`, aspect ratio kept.
        case keepRatio = "keep_ratio"
        /// Shortest side scaled to `size`, then the centre `size`×`size` cut out.
        case centerCrop = "center_crop"
        /// Longest side scaled to `size`, then padded to `size`×`size`.
        case border
    }

    public var mode: Mode
    public var size: Int
    public var quality: Int

    public init(mode: Mode, size: Int, quality: Int) {
        self.mode = mode
        self.size = size
        self.quality = quality
    }
}

/// The one image format of a dataset's paired shards and exports (`shards.image_format`).
public enum ImageOutputFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png

    /// The member and file extension (`jpg`, `png`).
    public var fileExtension: String { self == .jpeg ? "jpg" : "png" }
    public var mimeType: String { self == .jpeg ? "image/jpeg" : "image/png" }
}

/// An opaque sRGB colour written `#rrggbb` (`shards.background`: what alpha is flattened onto for JPEG).
public struct RGBColor: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) { self.red = red; self.green = green; self.blue = blue }

    public static let white = RGBColor(red: 255, green: 255, blue: 255)

    /// Parses `#rrggbb` (the `#` optional); nil for anything else.
    public init?(hex: String) {
        var s = Substring(hex.trimmingCharacters(in: .whitespaces))
        if s.hasPrefix("#") { s = s.dropFirst() }
        guard s.count == 6, s.allSatisfy(\.isHexDigit), let v = UInt32(s, radix: 16) else { return nil }
        self.init(red: UInt8(v >> 16 & 0xFF), green: UInt8(v >> 8 & 0xFF), blue: UInt8(v & 0xFF))
    }

    public var description: String { String(format: "#%02x%02x%02x", red, green, blue) }
}

/// A full render request: optional resize, the output format, its quality, the background for alpha, and
/// whether greyscale must become colour.
public struct ImageRenderRequest: Sendable, Equatable, Hashable, Codable {
    public var resize: ImageTransformRequest?
    public var format: ImageOutputFormat
    public var quality: Int
    public var background: RGBColor
    /// Greyscale written as RGB (grey with alpha as RGBA in PNG): for readers that take only RGB or RGBA, as
    /// OpenAI's fine-tuning does. False keeps greyscale grey.
    public var colour: Bool

    public init(resize: ImageTransformRequest? = nil, format: ImageOutputFormat = .jpeg, quality: Int = 90, background: RGBColor = .white,
                colour: Bool = false) {
        self.resize = resize
        self.format = format
        self.quality = quality
        self.background = background
        self.colour = colour
    }
}

/// The transformer's output: encoded bytes, their format (`jpg`, `png`, `webp`) and pixel size.
public struct TransformedImage: Sendable {
    public var data: Data
    public var format: String
    public var width: Int
    public var height: Int

    public init(data: Data, format: String, width: Int, height: Int) {
        self.data = data
        self.format = format
        self.width = width
        self.height = height
    }
}
