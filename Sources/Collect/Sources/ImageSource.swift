import Foundation
import Dataset
import Imaging
import Logging

/// Turns a keyword into candidate images with provenance. One conformer per source (Commons, iNaturalist,
/// Openverse, GBIF, Flickr, a URL list, a local directory), registered through `RegisteredSource` in
/// `ImageSources.all`.
public protocol ImageSource: Sendable {
    /// The name used in recipes, options and `candidates.source` (`commons`, `inaturalist`…).
    var name: String { get }

    /// Up to `limit` candidates for `query` (the keyword's `query` override or its text), after the licence filter.
    /// Pages through the source's results until it has `limit` or the source has no more.
    func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate]

    /// Keywords the source itself brings (a directory's sub-folders); collect adds them to the manifest before
    /// searching. Search APIs bring none; a URL list (`ListingSource`) declares its keywords as it is read.
    func declaredKeywords() -> [KeywordEntry]

    /// Input lines the source could not read (`file:line: message`), reported by the command. Search APIs have none;
    /// a URL list names its bad rows as it is read (`ListingSource.stream`).
    var problems: [String] { get }
}

extension ImageSource {
    public func declaredKeywords() -> [KeywordEntry] { [] }
    public var problems: [String] { [] }
}

/// What a source may use while searching: a JSON fetcher (the HTTP engine in production, a fake in tests), the
/// licence filter, a logger and a way to wait (so tests need not sleep).
public struct SourceContext: Sendable {
    public let fetcher: any JSONFetching
    public let licenses: LicenseFilter
    public let logger: Logger
    public let sleep: @Sendable (Double) async throws -> Void

    public init(fetcher: any JSONFetching, licenses: LicenseFilter, logger: Logger,
                sleep: @escaping @Sendable (Double) async throws -> Void = { seconds in
                    try await Task.sleep(nanoseconds: UInt64(max(seconds, 0) * 1_000_000_000))
                }) {
        self.fetcher = fetcher
        self.licenses = licenses
        self.logger = logger
        self.sleep = sleep
    }

    /// Fetches `url` and parses it as a JSON object; a non-object body is an `unexpectedResponse` error.
    public func object(_ url: URL, source: String) async throws -> (object: [String: Any], headers: [String: String]) {
        let response = try await fetcher.get(url)
        guard (200..<300).contains(response.status) else {
            throw CollectError(.sourceFailed, item: source,
                               detail: "HTTP \(response.status) for \(url.absoluteString)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw CollectError(.unexpectedResponse, item: source,
                               detail: "\(url.absoluteString) did not answer a JSON object (\(ImageMagic.describeNonImage(response.body)))")
        }
        return (object, response.headers)
    }
}

/// A GET of a source's API. Production uses the HTTP engine (polite User-Agent, retries, rate limits);
/// tests pass canned responses.
public protocol JSONFetching: Sendable {
    func get(_ url: URL) async throws -> FetchedResponse
}

/// A source API response: status, headers with lower-cased names, body.
public struct FetchedResponse: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }
}

/// Small helpers the sources share for reading loosely typed JSON.
enum JSONField {
    static func string(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s.isEmpty ? nil : s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    static func int(_ value: Any?) -> Int? {
        switch value {
        case let n as NSNumber: return n.intValue
        case let s as String: return Int(s)
        default: return nil
        }
    }
}

extension URL {
    /// `base` + `path` + query items, with `base` possibly holding a path prefix (a loopback server's root).
    static func api(_ base: String, _ path: String, _ query: [(String, String)]) -> URL? {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard var components = URLComponents(string: trimmed + path) else { return nil }
        components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
        // `+` in a query means a space to most servers; encode it so a search for `C++` survives.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.url
    }
}
