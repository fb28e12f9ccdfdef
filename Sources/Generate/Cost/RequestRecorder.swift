import Dataset
import Foundation
import Logging
import Synchronization

/// A transport that sends nothing: it keeps the body of every request a client would have sent (with the purpose
/// of the request it belongs to) and fails it as unreachable. `dsbuild estimate` runs the stages' own request code
/// over it, so what it counts is byte for byte what a run would send.
public final class RequestRecorder: ChatTransport {
    /// One request the stage would have sent.
    public struct Recorded: Sendable {
        public var body: Data
        public var purpose: String
    }

    /// The purpose of the request being made on this task (set by `EstimatingChatService`).
    @TaskLocal static var purpose = ""

    private let recorded = Mutex<[Recorded]>([])

    public init() {}

    public var requests: [Recorded] { recorded.withLock { $0 } }

    /// Takes what was recorded so far, leaving nothing.
    public func drain() -> [Recorded] { recorded.withLock { list in defer { list = [] }; return list } }

    public func post(url: URL, headers: [(String, String)], body: Data, timeout: TimeInterval) async throws(ChatTransportError) -> ChatHTTPResponse {
        let purpose = Self.purpose
        recorded.withLock { $0.append(Recorded(body: body, purpose: purpose)) }
        throw ChatTransportError(.connection, "not sent: dsbuild estimate only counts requests")
    }
}

/// A `ChatService` for `dsbuild estimate`: the configured client — same bodies, same cache — over a
/// `RequestRecorder`, tried once, never re-asked, reading the cache without counting hits. An answer in the cache is
/// replayed (so a stage goes on as a rerun would); any other request is recorded and fails.
public final class EstimatingChatService: ChatService {
    public let recorder = RequestRecorder()
    private let client: OpenAIClient

    public init(configuration: OpenAIClientConfiguration, manifest: Manifest) {
        var configuration = configuration
        configuration.maxAttempts = 1
        configuration.maxReasks = 0
        configuration.budget = nil
        configuration.limits = RequestPacer.Limits(concurrency: max(configuration.limits.concurrency, 1))
        var cache = LLMCache(manifest: manifest)
        cache.readOnly = true
        // Quiet: a request a batch in flight holds is left out and said once in the estimate's notes.
        var logger = Logger(label: "dsbuild.estimate")
        logger.logLevel = .error
        client = OpenAIClient(configuration: configuration, transport: recorder, cache: cache, logger: logger)
    }

    public func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        do {
            return try await RequestRecorder.$purpose.withValue(request.purpose) { try await client.complete(request) }
        } catch let error as ChatError {
            throw error
        } catch {
            throw ChatError(.unavailable, "\(error)")
        }
    }
}
