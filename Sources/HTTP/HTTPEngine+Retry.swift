import Dataset
import Foundation

extension HTTPEngine {
    /// Runs `request`, retrying connection errors, timeouts and the policy's statuses (408, 429, 5xx by
    /// default) with exponential backoff and full jitter, or what the server asks in `Retry-After`. Never
    /// throws: the result holds the final response or error and every attempt.
    ///
    /// - Parameter makeSink: a fresh sink per attempt (a retry must not append to a half-written body), or nil
    ///   to collect bodies.
    public func perform(
        _ request: HTTPRequest,
        retry policy: RetryPolicy,
        makeSink: (@Sendable () -> (any HTTPBodySink)?)? = nil
    ) async -> HTTPRetryResult {
        var attempts: [HTTPAttempt] = []
        var number = 0
        while true {
            number += 1
            let started = Date()
            let clock = ContinuousClock()
            let t0 = clock.now
            let result: Result<HTTPResponse, HTTPError>
            do {
                result = .success(try await perform(request, sink: makeSink?()))
            } catch {
                result = .failure(error)
            }
            var attempt = HTTPAttempt(
                number: number, outcome: .response(status: 0), started: started, duration: clock.now - t0)

            let retryable: Bool
            var hint: RetryAfter.Hint?
            switch result {
            case .success(let response):
                attempt.outcome = .response(status: response.status)
                retryable = policy.retryableStatuses.contains(response.status)
                hint = RetryAfter.hint(in: response.headers)
            case .failure(let error):
                attempt.outcome = .failure(error)
                retryable = error.code != .cancelled && policy.retryableError(error)
            }

            guard retryable, number < policy.maxAttempts, !Task.isCancelled else {
                attempts.append(attempt)
                return HTTPRetryResult(result: result, attempts: attempts)
            }
            if policy.honourRetryAfter, let maxWait = policy.maxWait, let hint, hint.delay > maxWait {
                attempts.append(attempt)
                var refused = HTTPRetryResult(result: result, attempts: attempts)
                refused.waitRefused = HTTPWaitTooLong(endpoint: request.hostKey, url: request.url, asked: hint, limit: maxWait)
                return refused
            }
            let (wait, reason) = policy.delay(beforeRetry: number, hint: hint)
            attempt.wait = wait
            attempt.waitReason = reason
            attempts.append(attempt)
            ProgressReporter.announceWait(seconds: wait.seconds, for: "\(request.hostKey) (\(reason))")
            do {
                try await Task.sleep(for: wait)
            } catch {
                return HTTPRetryResult(result: .failure(HTTPError(.cancelled, url: request.url)), attempts: attempts)
            }
        }
    }
}
