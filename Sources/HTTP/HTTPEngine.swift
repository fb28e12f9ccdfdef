import Dataset
import Foundation
import Synchronization

/// Runs HTTP requests for the whole process over one libcurl multi handle on one background thread:
/// connections are reused, HTTP/2 is multiplexed where the server offers it, and the number of concurrent
/// transfers is bounded globally and per host. `perform` suspends the calling task until the transfer ends;
/// cancelling the task removes the transfer.
///
/// ```swift
/// let engine = HTTPEngine(configuration: .init(userAgent: HTTPEngine.userAgent(contact: "me@example.org")))
/// // Collected body, no retries:
/// let page = try await engine.perform(HTTPRequest(url: url))
/// // Streamed to a file and hashed, refused on `X-Robots-Tag: noai`, retried with backoff:
/// let outcome = await engine.perform(HTTPRequest(url: imageURL, maxBodyBytes: 50 << 20), retry: RetryPolicy()) {
///     try? HashingBodySink(writingTo: tempFile) { head in
///         head.headers.values("X-Robots-Tag").contains { $0.contains("noai") } ? .abort("X-Robots-Tag: noai") : .proceed
///     }
/// }
/// // outcome.attempts: every try, with status or error and the wait chosen.
/// ```
///
/// Per-host limits are applied by the engine before a transfer reaches curl (so timeouts only run once a
/// transfer is admitted); CURLMOPT_MAX_HOST_CONNECTIONS / MAX_TOTAL_CONNECTIONS are set as a backstop.
public final class HTTPEngine: Sendable {
    /// Where requests go.
    public enum Proxy: Sendable, Equatable {
        /// curl's default: `http_proxy`, `https_proxy`, `no_proxy` from the environment.
        case environment
        /// Always connect directly, whatever the environment says (loopback tests).
        case direct
        /// This proxy URL, e.g. `http://proxy:3128` or `socks5h://127.0.0.1:1080`.
        case url(String)
    }

    public struct Configuration: Sendable {
        /// `dsbuild/<version> (+contact)`: sent with every request unless the request sets its own.
        public var userAgent: String
        /// Transfers running at once over all hosts (also CURLMOPT_MAX_TOTAL_CONNECTIONS).
        public var maxTotalConnections: Int
        /// Transfers running at once per `HTTPRequest.hostKey` (also CURLMOPT_MAX_HOST_CONNECTIONS).
        public var maxConnectionsPerHost: Int
        /// Per-host overrides by host key (`https://upload.wikimedia.org:443` → 2).
        public var hostLimits: [String: Int]
        /// Negotiate HTTP/2 over TLS and multiplex transfers on one connection.
        public var multiplex: Bool
        /// Reset easy handles kept for reuse.
        public var maxIdleHandles: Int
        public var proxy: Proxy
        /// A PEM file of CA certificates to trust instead of the system store (a TLS-inspecting proxy's, a test
        /// server's). Defaults to `$CURL_CA_BUNDLE`, then `$SSL_CERT_FILE`, as the curl tool reads them.
        public var caBundle: String?
        /// Which addresses connections may go to (`.publicOnly` for remote sources, see `AddressPolicy`).
        public var addressPolicy: AddressPolicy

        public init(
            userAgent: String = HTTPEngine.userAgent(contact: "https://github.com/dsbuild/dsbuild"),
            maxTotalConnections: Int = 64,
            maxConnectionsPerHost: Int = 6,
            hostLimits: [String: Int] = [:],
            multiplex: Bool = true,
            maxIdleHandles: Int = 64,
            proxy: Proxy = .environment,
            caBundle: String? = HTTPEngine.environmentCABundle(),
            addressPolicy: AddressPolicy = .any
        ) {
            self.addressPolicy = addressPolicy
            self.userAgent = userAgent
            self.maxTotalConnections = maxTotalConnections
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.hostLimits = hostLimits
            self.multiplex = multiplex
            self.maxIdleHandles = maxIdleHandles
            self.proxy = proxy
            self.caBundle = caBundle
        }
    }

    /// `$CURL_CA_BUNDLE`, else `$SSL_CERT_FILE`, when set and not empty.
    public static func environmentCABundle(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        [environment["CURL_CA_BUNDLE"], environment["SSL_CERT_FILE"]].compactMap { $0 }.first { !$0.isEmpty }
    }

    /// `dsbuild/<version> (+<contact>)`, the form Wikimedia's policy asks for.
    public static func userAgent(contact: String) -> String {
        "dsbuild/\(DSBuildVersion.string) (+\(contact))"
    }

    public let configuration: Configuration
    private let loop: CurlMultiLoop
    private let nextID = Atomic<UInt64>(1)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        loop = CurlMultiLoop(
            limits: .init(
                maxTotal: max(1, configuration.maxTotalConnections),
                maxPerHost: max(1, configuration.maxConnectionsPerHost),
                perHost: configuration.hostLimits),
            transferOptions: .init(userAgent: configuration.userAgent, multiplex: configuration.multiplex, proxy: configuration.proxy,
                                   caBundle: configuration.caBundle, addressPolicy: configuration.addressPolicy),
            maxIdleHandles: configuration.maxIdleHandles)
        loop.start()
    }

    deinit { loop.stop() }

    /// Stops the engine thread; transfers still queued or running fail with `.cancelled`.
    public func shutdown() { loop.stop() }

    /// Runs one request (following redirects as the request allows) and returns the final response. When
    /// `sink` is given the body goes to it in chunks and `HTTPResponse.body` is nil; otherwise it is collected.
    /// HTTP error statuses are responses; only failed transfers throw.
    public func perform(_ request: HTTPRequest, sink: (any HTTPBodySink)? = nil) async throws(HTTPError) -> HTTPResponse {
        let scheme = request.url.scheme?.lowercased() ?? ""
        guard scheme == "http" || scheme == "https" else {
            throw HTTPError(scheme.isEmpty ? .invalidURL : .disallowedScheme(scheme), url: request.url)
        }
        guard !Task.isCancelled else { throw HTTPError(.cancelled, url: request.url) }

        let id = nextID.add(1, ordering: .relaxed).oldValue
        let flag = CancelFlag()
        let loop = self.loop
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) in
                let transfer = CurlTransfer(id: id, request: request, sink: sink, continuation: continuation)
                flag.attach(transfer)
                loop.submit(transfer)
            }
        } onCancel: {
            flag.cancel()
            loop.cancel(id)
        }
        return try result.get()
    }
}

/// Carries a cancellation that may arrive before the transfer exists to the transfer once it does.
private final class CancelFlag: Sendable {
    private let state = Mutex<(cancelled: Bool, transfer: CurlTransfer?)>((false, nil))

    func attach(_ transfer: CurlTransfer) {
        let cancelled = state.withLock { state -> Bool in
            state.transfer = transfer
            return state.cancelled
        }
        if cancelled { transfer.cancelRequested.store(true, ordering: .releasing) }
    }

    func cancel() {
        let transfer = state.withLock { state -> CurlTransfer? in
            state.cancelled = true
            return state.transfer
        }
        transfer?.cancelRequested.store(true, ordering: .releasing)
    }
}
