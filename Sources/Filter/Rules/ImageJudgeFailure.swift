import Dataset
import Foundation
import Imaging

extension JudgeError {
    /// The JPEG thumbnail an image judge is shown, its longer side brought down to `maxSide` (upright: the
    /// thumbnailer applies the EXIF orientation); `unreadableImage` when the image cannot be decoded.
    static func thumbnail(of url: URL, maxSide: Int, judge: String) throws(JudgeError) -> Data {
        do {
            return try Thumbnailer(quality: 85).thumbnail(fileAt: url, maxSide: maxSide)
        } catch {
            throw JudgeError(.unreadableImage, judge: judge, item: "image \(url.lastPathComponent)", detail: "cannot make the thumbnail: \(error)")
        }
    }
}

extension RuleDecision {
    /// A judge's failure as a decision: a drop when the image itself cannot be judged (`JudgeError.isAboutItem`),
    /// else undecided (retried on the next run; `stopped` stops the run).
    static func judgeFailed(_ error: any Error, rule: String, threshold: String, subject s: FilterSubject, what: String) -> RuleDecision {
        let judgeError = error as? JudgeError
        let cause = judgeError.map { "\($0.code.rawValue): \($0.detail)" } ?? "\(error)"
        if let cause = judgeError?.cause, cause.isDeferred {
            var decision = RuleDecision.undecided(threshold, "image \(s.sha256.prefix(12)) (\(s.keyword)): \(rule) queued for the Batch API")
            decision.deferred = true
            return decision
        }
        if let judgeError, judgeError.isAboutItem {
            return .drop("judge=\(judgeError.code.rawValue)", threshold, "\(what): the image cannot be shown to the judge: \(judgeError.detail)")
        }
        return .undecided(threshold, "image \(s.sha256.prefix(12)) (\(s.keyword)): \(rule) undecided, the judge failed: \(cause); retried on the next filter run",
                          stopsRun: judgeError?.code == .stopped, stopStatus: judgeError?.cause?.runStatus ?? "error")
    }
}
