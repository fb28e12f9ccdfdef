import Dataset
import Foundation

/// Why the Batch API path could not go on: what happened, to which batch or file, and what to do. Errors that end
/// every request (a refused key, exhausted quota) are thrown as `ChatError` instead, as online, so commands stop
/// the stage the same way.
public struct BatchError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// One request is larger than an input file may be.
        case requestTooLarge = "request_too_large"
        /// The files or batches endpoint answered with an error or something that is not the documented shape.
        case api
        /// The endpoint does not know the batch or file (404): another endpoint or key, or it was deleted.
        case notFound = "not_found"
        /// A batch ended `failed` as a whole (its input was refused); `errors.data` says why.
        case batchFailed = "batch_failed"
        /// Requests were still unanswered after `llm.batch_max_rounds` rounds.
        case roundsExhausted = "rounds_exhausted"
        /// The manifest could not record a batch.
        case storage
    }

    public let code: Code
    public let message: String
    /// The HTTP status the endpoint answered with, when it refused (`api`, `notFound`).
    public let status: Int?

    public init(_ code: Code, _ message: String, status: Int? = nil) {
        self.code = code
        self.status = status
        // Messages quote URLs and error bodies, which may echo a key: never keep one.
        self.message = SecretRedactor.redact(message)
    }

    public var description: String { "batch \(code.rawValue): \(message)" }

    /// The endpoint refused the call itself (a 4xx other than a rate limit): asking again the same way cannot help.
    public var isRefusal: Bool { status.map { (400..<500).contains($0) && ![408, 409, 429].contains($0) } ?? false }
}
