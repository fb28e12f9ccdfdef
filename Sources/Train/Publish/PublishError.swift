import Foundation

/// Why `dsbuild publish` could not write its folder: what failed, on which item, and the cause.
public struct PublishError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Nothing to publish: no kept image, no text, no question.
        case noData = "no_data"
        /// The parquet bridge (trainer/parquet_write.py) failed or could not start.
        case parquet
        /// A file of the folder could not be written.
        case write
        /// The release folder may not be written: the workspace, the shards, a user's folder, or another publish holds it.
        case folder
    }

    public let code: Code
    /// The file, interpreter or image concerned.
    public let item: String
    public let detail: String

    public init(_ code: Code, item: String, _ detail: String) {
        self.code = code
        self.item = item
        self.detail = detail
    }

    public var description: String { "\(item): \(detail)" }
}
