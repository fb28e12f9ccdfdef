/// Why embeddings could not be computed, stored or read: what happened, to which model, file or image, and what
/// to do about it.
public struct EmbeddingError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// `filter.embeddings.model` is unset, or names no folder.
        case modelMissing = "model_missing"
        /// The model folder is not one dsbuild can embed with (not CLIP, SigLIP or a standard open_clip ViT CLIP; broken).
        case unsupportedModel = "unsupported_model"
        /// The vectors file does not agree with the manifest (another vector size, unreadable).
        case storeCorrupt = "store_corrupt"
        /// The Python bridge could not be started or stopped with an error.
        case bridgeFailed = "bridge_failed"
    }

    public let code: Code
    /// The model folder, vectors file or image concerned.
    public let item: String
    public let detail: String

    public init(_ code: Code, item: String, _ detail: String) {
        self.code = code
        self.item = item
        self.detail = detail
    }

    public var description: String { "\(item): \(detail)" }
}
