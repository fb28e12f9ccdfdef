import Foundation
import GRDB

/// A row of `images`: one stored image, content-addressed by its sha256, with what its probe found. Inserted once
/// (a known image keeps its row); the pHash columns are filled later by the filter.
public struct ImageRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "images"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var sha256: String
    /// Relative to the workspace root.
    public var path: String
    public var bytes: Int
    public var format: String?
    public var width: Int?
    public var height: Int?
    public var displayWidth: Int?
    public var displayHeight: Int?
    public var orientation: Int?
    public var animated: Bool
    public var frames: Int?
    /// Embedded rights metadata, a JSON object text.
    public var rights: String
    /// Probe details, a JSON object text.
    public var probe: String
    public var createdAt: Double

    public init(sha256: String, path: String, bytes: Int, format: String?, width: Int?, height: Int?, displayWidth: Int?,
                displayHeight: Int?, orientation: Int?, animated: Bool, frames: Int?, rights: [String: String],
                details: [String: String], createdAt: Double = Date().timeIntervalSince1970) {
        self.sha256 = sha256
        self.path = path
        self.bytes = bytes
        self.format = format
        self.width = width
        self.height = height
        self.displayWidth = displayWidth
        self.displayHeight = displayHeight
        self.orientation = orientation
        self.animated = animated
        self.frames = frames
        self.rights = JSONText.encode(rights)
        self.probe = JSONText.encode(details)
        self.createdAt = createdAt
    }

    /// The row of an image as its probe describes it.
    public init(sha256: String, path: String, bytes: Int, probe: ProbedImage, createdAt: Double = Date().timeIntervalSince1970) {
        self.init(sha256: sha256, path: path, bytes: bytes, format: probe.format, width: probe.width, height: probe.height,
                  displayWidth: probe.displayWidth, displayHeight: probe.displayHeight, orientation: probe.orientation,
                  animated: probe.animated, frames: probe.frames, rights: probe.rights, details: probe.details, createdAt: createdAt)
    }

    /// Inserts the row unless the image is stored already (its first row stays).
    public func insertIfNew(_ db: Database) throws {
        try insert(db, onConflict: .ignore)
    }
}
