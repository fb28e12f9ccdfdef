import Dataset

/// An error that stops collect (a bad setting, an unreadable input, a source API that cannot be used).
/// Per-image failures are not errors but recorded outcomes (`DownloadFailure`).
public struct CollectError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A setting or option has a value collect cannot use.
        case invalidSetting
        /// An input file (URL list, directory) cannot be read or has no usable rows.
        case unreadableInput
        /// A source API answered something that is not its documented shape.
        case unexpectedResponse
        /// A source API refused the request (bad key, quota, HTTP error after retries).
        case sourceFailed
        /// A required secret (an API key) is missing from the environment.
        case missingCredential
    }

    public let code: Code
    /// What it concerns: a URL, a file, a source name, an option.
    public let item: String
    public let detail: String

    public init(_ code: Code, item: String, detail: String) {
        self.code = code
        // Items and details quote request URLs and response bodies, which may carry or echo a key.
        self.item = SecretRedactor.redact(item)
        self.detail = SecretRedactor.redact(detail)
    }

    public var description: String {
        switch code {
        case .invalidSetting: return "invalid setting \(item): \(detail)"
        case .unreadableInput: return "cannot read \(item): \(detail)"
        case .unexpectedResponse: return "unexpected response from \(item): \(detail)"
        case .sourceFailed: return "source request failed (\(item)): \(detail)"
        case .missingCredential: return "missing credential for \(item): \(detail)"
        }
    }
}
