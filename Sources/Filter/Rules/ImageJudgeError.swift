import Dataset
import Foundation
import Imaging

/// Why a vision judge (the watermark judge, the relevance judge) gave no verdict on one image. Only an image that
/// cannot be decoded into what the judge is shown is a fact about the image; every other cause — an unreachable
/// endpoint, an exhausted quota, a refusal, a reply that never took the asked shape — is a failure: the image stays
/// undecided and is judged again on the next filter run.
public struct ImageJudgeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The judge could not be reached or answered with an error (network, 5xx, quota, timeout, a refused
        /// request): nothing is known about the image.
        case unavailable
        /// The model answered, but never with a verdict in the asked shape (or refused, or was cut off).
        case noVerdict = "no_verdict"
        /// The image could not be decoded into the thumbnail the judge is shown.
        case unreadableImage = "unreadable_image"
        /// The endpoint refuses every request (exhausted quota, a rejected key, a wait beyond the limit): asking
        /// about the next image is pointless, so the filter run stops (exit 2) and the images stay undecided.
        case stopped
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// True when the cause lies in the image itself (it cannot be decoded): a drop. Anything else is a failure to
    /// retry, never a decision.
    public var isAboutImage: Bool { code == .unreadableImage }

    public var description: String { "\(code.rawValue): \(detail)" }

    /// The judge error a failed chat request is: a stopping one when no later request can succeed.
    static func from(_ error: ChatError) -> ImageJudgeError {
        switch error.code {
        case .invalidOutput, .refusal, .truncated: ImageJudgeError(.noVerdict, error.description)
        default: ImageJudgeError(error.isFatal ? .stopped : .unavailable, error.description)
        }
    }

    /// The JPEG thumbnail a judge is shown, its longer side brought down to `maxSide` (upright: the thumbnailer
    /// applies the EXIF orientation).
    static func thumbnail(of url: URL, maxSide: Int) throws(ImageJudgeError) -> Data {
        do {
            return try Thumbnailer(quality: 85).thumbnail(fileAt: url, maxSide: maxSide)
        } catch {
            throw ImageJudgeError(.unreadableImage, "cannot make the thumbnail: \(error)")
        }
    }
}

extension RuleDecision {
    /// A judge's failure as a decision: a drop when the image itself cannot be judged, else undecided (retried on
    /// the next run; `stopped` stops the run).
    static func judgeFailed(_ error: any Error, rule: String, threshold: String, subject s: FilterSubject, what: String) -> RuleDecision {
        if let judgeError = error as? ImageJudgeError, judgeError.isAboutImage {
            return .drop("judge=\(judgeError.code.rawValue)", threshold, "\(what): the image cannot be shown to the judge: \(judgeError.detail)")
        }
        let stops = (error as? ImageJudgeError)?.code == .stopped
        return .undecided(threshold, "image \(s.sha256.prefix(12)) (\(s.keyword)): \(rule) undecided, the judge failed: \(error); retried on the next filter run",
                          stopsRun: stops)
    }
}
