import Foundation

/// A paired sample's `exif` as img2dataset writes it: `json.dumps` of `{tag name: printable value}` as `exifread`
/// names them (`Image Orientation`, `Image Artist`, `Image Copyright`), for the tags dsbuild reads from the source
/// file (orientation and the rights fields of IFD0); nil when the source had none of them.
enum Img2DatasetEXIF {
    /// exifread's printable values of the orientation tag.
    static let orientations = [1: "Horizontal (normal)", 2: "Mirrored horizontal", 3: "Rotated 180", 4: "Mirrored vertical",
                               5: "Mirrored horizontal then rotated 90 CCW", 6: "Rotated 90 CW",
                               7: "Mirrored horizontal then rotated 90 CW", 8: "Rotated 90 CCW"]

    /// `orientation`: the stored tag (nil: none); `rights`: the manifest's flattened rights JSON.
    static func json(orientation: Int?, rights: String?) -> String? {
        var tags: [(String, String)] = []
        if let orientation { tags.append(("Image Orientation", orientations[orientation] ?? "\(orientation)")) }
        let flat = rights.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
        // Tag-number order, as exifread reads IFD0: Artist (0x013B), Copyright (0x8298).
        if let artist = flat["exif.artist"] as? String { tags.append(("Image Artist", artist.trimmingCharacters(in: .whitespaces))) }
        if let copyright = flat["exif.copyright"] as? String { tags.append(("Image Copyright", copyright.trimmingCharacters(in: .whitespaces))) }
        guard !tags.isEmpty else { return nil }
        return "{" + tags.map { "\(pythonJSON($0.0)): \(pythonJSON($0.1))" }.joined(separator: ", ") + "}"
    }

    /// A string as Python's `json.dumps` writes it (ASCII only: other characters as `\uXXXX`, UTF-16 pairs).
    static func pythonJSON(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(unit)!)
            default: out += String(format: "\\u%04x", unit)
            }
        }
        return out + "\""
    }
}
