import Foundation

/// One HTTP request as the engine runs it: what to fetch, and the limits that keep a bad server from
/// holding a worker (timeouts, a minimum speed, a maximum body size, how many redirects to follow).
public struct HTTPRequest: Sendable {
    public var url: URL
    public var method: String
    /// Extra request headers, sent in order. `User-Agent` comes from the engine unless set here.
    public var headers: [(name: String, value: String)]
    public var body: Data?

    /// Time allowed to establish the connection (DNS + TCP + TLS).
    public var connectTimeout: Duration
    /// Time allowed for the whole transfer, redirects included. `nil` = no limit.
    public var totalTimeout: Duration?
    /// Abort when fewer than `lowSpeedLimit` bytes/s arrive for `lowSpeedTime` (whole seconds; curl's unit).
    public var lowSpeedLimit: Int?
    public var lowSpeedTime: Duration
    /// Abort when the response body is larger: before the body when `Content-Length` says so, otherwise while
    /// streaming, as soon as more bytes than this arrive (counted after gzip/deflate decoding).
    public var maxBodyBytes: Int?
    /// How many redirects to follow; 0 returns the 3xx response itself. Only http and https are followed.
    public var maxRedirects: Int
    /// Send `Accept-Encoding` for every encoding curl can decode, and decode transparently.
    public var acceptCompressed: Bool
    /// Resolver overrides in curl's `CURLOPT_RESOLVE` form, `host:port:address` (tests point a name at an address
    /// to prove the address policy refuses it before connecting).
    public var resolve: [String] = []
    /// The key the engine's per-host limit counts against; defaults to `scheme://host:port` of `url` (and
    /// follows `url` when it changes). Set it to group hosts (e.g. all of a CDN's mirrors) under one limit.
    public var hostKey: String {
        get { hostKeyOverride ?? HTTPRequest.defaultHostKey(for: url) }
        set { hostKeyOverride = newValue }
    }
    private var hostKeyOverride: String?

    public init(
        url: URL,
        method: String = "GET",
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        connectTimeout: Duration = .seconds(10),
        totalTimeout: Duration? = .seconds(60),
        lowSpeedLimit: Int? = nil,
        lowSpeedTime: Duration = .seconds(30),
        maxBodyBytes: Int? = nil,
        maxRedirects: Int = 5,
        acceptCompressed: Bool = true,
        hostKey: String? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.maxBodyBytes = maxBodyBytes
        self.maxRedirects = maxRedirects
        self.acceptCompressed = acceptCompressed
        self.hostKeyOverride = hostKey
    }

    /// `scheme://host:port`, lower-cased, with the scheme's default port filled in.
    public static func defaultHostKey(for url: URL) -> String {
        let scheme = (url.scheme ?? "").lowercased()
        let host = (url.host ?? "").lowercased()
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }
}

extension Duration {
    /// Whole milliseconds, rounded up, at least 1 for a positive duration (curl's `*_MS` options).
    var curlMilliseconds: Int {
        let (s, atto) = components
        let ms = s * 1000 + (atto + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(max(ms, 0))
    }

    /// Seconds as a Double.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
