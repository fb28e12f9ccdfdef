/// How much of an image's header a probe interprets.
public enum ProbeScope: Sendable {
    /// Format, stored and display size (EXIF orientation), frames, colour model, bit depth: what sizing,
    /// decoding and hashing need. Embedded rights metadata is skipped (XMP is not parsed), as Pillow's
    /// `Image.open` leaves its APP segments uninterpreted.
    case geometry
    /// Geometry plus the embedded rights metadata (EXIF Copyright/Artist, IPTC, XMP) the watermark and
    /// rights rules read: what collect records for every image.
    case full

    var readsRights: Bool { self == .full }
}
