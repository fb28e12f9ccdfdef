/// Why a review action could not be applied: the item it names and what to do.
public struct ReviewError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The keyword text is not in the manifest.
        case unknownKeyword
        /// The image is not stored, or has no decision or candidate for the keyword.
        case unknownImage
        /// No description or question with that id or key.
        case unknownItem
        /// The action's arguments are not valid (an empty edit, an answer out of range, a relabel to the same keyword).
        case invalid
        /// A line of an import file is not a review record.
        case badRecord
    }

    public let code: Code
    /// The item concerned: a keyword, an image hash, an id, `FILE:LINE`.
    public let item: String
    public let detail: String

    public init(_ code: Code, item: String, _ detail: String) {
        self.code = code
        self.item = item
        self.detail = detail
    }

    public var description: String { "\(item): \(detail)" }
}
