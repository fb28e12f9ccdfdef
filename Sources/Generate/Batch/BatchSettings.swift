import Dataset
import Foundation

/// How the Batch API path runs (recipe `llm.batch*`): poll backoff, rounds, resubmissions and input-file limits.
public struct BatchSettings: Sendable, Equatable {
    public var pollSeconds: Double
    public var pollMaxSeconds: Double
    public var maxRounds: Int
    public var maxAttempts: Int
    public var maxRequests: Int
    public var maxBytes: Int
    /// `llm.max_reply_bytes`: a result line larger than this is an error for its request, as an online reply would be.
    public var maxReplyBytes: Int

    public init(pollSeconds: Double = 30, pollMaxSeconds: Double = 600, maxRounds: Int = 6, maxAttempts: Int = 3,
                maxRequests: Int = 50_000, maxBytes: Int = 200_000_000, maxReplyBytes: Int = 32 << 20) {
        self.maxReplyBytes = maxReplyBytes
        self.pollSeconds = pollSeconds
        self.pollMaxSeconds = pollMaxSeconds
        self.maxRounds = maxRounds
        self.maxAttempts = maxAttempts
        self.maxRequests = maxRequests
        self.maxBytes = maxBytes
    }

    public init(_ llm: LLMSettings) {
        self.init(pollSeconds: llm.batchPollSeconds, pollMaxSeconds: max(llm.batchPollMaxSeconds, llm.batchPollSeconds),
                  maxRounds: llm.batchMaxRounds, maxAttempts: llm.batchMaxAttempts, maxRequests: llm.batchMaxRequests,
                  maxBytes: llm.batchMaxBytes, maxReplyBytes: llm.maxReplyBytes)
    }
}
