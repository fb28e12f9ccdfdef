import Dataset
import Foundation
import HTTP
import Synchronization

/// Fetches images over HTTP(S) with the shared engine: only http/https (also on redirect, which the engine
/// enforces), robots.txt checked per host before the request, `X-Robots-Tag` checked on the response head (the
/// transfer is aborted before the body), retries with backoff + jitter honouring Retry-After, and the body
/// streamed to a temporary file while it is hashed. A retry starts a fresh file.
public struct HTTPImageFetcher: ImageFetching {
    public let engine: HTTPEngine
    public let settings: DownloadSettings
    let robots: RobotsCache?

    public init(engine: HTTPEngine, settings: DownloadSettings) {
        self.engine = engine
        self.settings = settings
        robots = settings.robots ? RobotsCache(engine: engine, userAgent: settings.userAgent) : nil
    }

    public func fetch(_ item: PendingDownload, into directory: URL) async throws -> FetchResult {
        guard let url = URL(string: item.url), let scheme = url.scheme?.lowercased() else {
            return .failed(DownloadFailure(reason: "invalid_url", detail: "not a URL: \(item.url)"))
        }
        guard scheme == "http" || scheme == "https" else {
            return .failed(DownloadFailure(reason: "disallowed_scheme", detail: "only http and https are fetched, not \(scheme): \(item.url)"))
        }
        if let robots {
            switch await robots.verdict(for: url) {
            case .allowed: break
            case .disallowed(let detail): return .failed(DownloadFailure(reason: "robots_disallowed", detail: detail))
            case .unavailable(let detail):
                // RFC 9309: an unreadable robots.txt is a temporary disallow, not a decision about the image.
                return .failed(DownloadFailure(reason: "robots_unavailable", detail: detail, retryable: true))
            }
        }
        let box = SinkBox(directory: directory, checkXRobotsTag: settings.respectXRobotsTag)
        let policy = settings.retryPolicy
        let result = await engine.perform(settings.request(for: url), retry: policy, makeSink: { box.makeSink() })
        if let refused = result.waitRefused {
            // A server asking for a wait beyond collect.max_wait_seconds stops the stage (nothing is recorded for
            // this image: it stays pending for the next run).
            box.discard()
            throw refused
        }
        let attempts = result.attempts.map { attempt in
            AttemptRecord(number: attempt.number, url: item.url, httpStatus: attempt.status,
                          error: attempt.error.map { DownloadFailure.transfer($0, attempts: 1).reason },
                          waitSeconds: attempt.wait.map(Self.seconds), startedAt: attempt.started.timeIntervalSince1970,
                          duration: Self.seconds(attempt.duration))
        }
        switch result.result {
        case .success(let response):
            guard response.isSuccess else {
                box.discard()
                return FetchResult(.failure(.status(response.status, url: item.url, attempts: attempts.count,
                                                    retryable: policy.retryableStatuses.contains(response.status))),
                                   attempts: attempts)
            }
            do {
                let (file, sha, bytes) = try box.finish()
                return FetchResult(.success(FetchedFile(file: file, sha256: sha, bytes: bytes,
                                                        finalURL: response.effectiveURL.absoluteString, httpStatus: response.status)),
                                   attempts: attempts)
            } catch {
                box.discard()
                if let storage = StorageError.from(error, path: directory.path) {
                    return FetchResult(.failure(.storage(storage, url: item.url)), attempts: attempts)
                }
                return FetchResult(.failure(DownloadFailure(reason: "write_failed", detail: "\(item.url): \(error)")), attempts: attempts)
            }
        case .failure(let error):
            box.discard()
            if error.code == .cancelled && Task.isCancelled { throw CancellationError() }
            return FetchResult(.failure(.transfer(error, attempts: attempts.count)), attempts: attempts)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, atto) = duration.components
        return Double(s) + Double(atto) / 1e18
    }
}

/// Holds the sink of the latest attempt (the engine asks for a fresh one per attempt) and its temporary file.
private final class SinkBox: Sendable {
    private struct State {
        var sink: HashingBodySink?
        var file: URL?
    }

    private let state = Mutex(State())
    private let directory: URL
    private let checkXRobotsTag: Bool

    init(directory: URL, checkXRobotsTag: Bool) {
        self.directory = directory
        self.checkXRobotsTag = checkXRobotsTag
    }

    func makeSink() -> (any HTTPBodySink)? {
        discard()
        let file = TemporaryPart.url(in: directory, prefix: "dl")
        let check = checkXRobotsTag
        let sink: HashingBodySink?
        var openFailure: (any Error)?
        do {
            sink = try HashingBodySink(writingTo: file, onHead: { head in
                guard check, (200..<300).contains(head.status),
                      let directive = XRobotsTag.blockingDirective(in: head.headers.values("X-Robots-Tag")) else { return .proceed }
                return .abort(XRobotsAbort.reason(directive))
            })
        } catch {
            sink = nil
            openFailure = error
        }
        state.withLock { $0 = State(sink: sink, file: sink == nil ? nil : file) }
        // Without a sink the engine would collect the body in memory; a sink that cannot open its file instead
        // fails the attempt, which `finish` reports.
        return sink ?? FailingSink(file: file, reason: (openFailure as? StorageError)?.abortReason)
    }

    func finish() throws -> (URL, String, Int) {
        let (sink, file) = state.withLock { ($0.sink, $0.file) }
        guard let sink, let file else { throw CocoaError(.fileWriteUnknown) }
        let (sha, bytes) = try sink.finish()
        state.withLock { $0 = State() }
        return (file, sha, bytes)
    }

    func discard() {
        let (sink, file) = state.withLock { state -> (HashingBodySink?, URL?) in
            defer { state = State() }
            return (state.sink, state.file)
        }
        _ = try? sink?.finish()
        if let file { try? FileManager.default.removeItem(at: file) }
    }
}

/// A sink that refuses the body: used when the temporary file could not be created.
private final class FailingSink: HTTPBodySink {
    let file: URL
    let reason: String
    init(file: URL, reason: String?) {
        self.file = file
        self.reason = reason ?? "cannot create \(file.path)"
    }
    func receiveHead(_ head: HTTPResponseHead) -> HTTPSinkDecision { .abort(reason) }
    func receive(_ chunk: UnsafeRawBufferPointer) -> HTTPSinkDecision { .abort(reason) }
}
