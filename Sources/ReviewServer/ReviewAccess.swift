import Crypto
import Foundation

/// Who may use the review server: a request that carries the session token (in `?token=` or the cookie set from
/// it) and names this server as its `Host`; a state-changing request must also be a POST whose `Origin` is this
/// server. Another local user, or a web page open in the same browser, knows neither the token nor the origin.
public struct ReviewAccess: Sendable {
    /// The name of the cookie the token is kept in (HttpOnly, SameSite=Strict).
    public static let cookieName = "dsbuild_review"
    public let token: String
    public let port: Int

    public init(token: String, port: Int) {
        self.token = token
        self.port = port
    }

    /// A new random session token (256 bits, hex).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }

    /// The origins this server answers to.
    public var origins: Set<String> { ["http://127.0.0.1:\(port)", "http://localhost:\(port)"] }

    /// Whether `candidate` is the token (constant time over the bytes).
    public func matches(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        let a = Array(SHA256.hash(data: Data(candidate.utf8))), b = Array(SHA256.hash(data: Data(token.utf8)))
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The token carried by a `Cookie` header, if any.
    public static func cookieToken(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2, pair[0] == cookieName { return pair[1] }
        }
        return nil
    }

    /// Why a request is refused (nil: allowed). `queryToken` / `cookie`: where it may carry the token; `host` and
    /// `origin`: its headers; `changesState`: a POST.
    public func refusal(queryToken: String?, cookie: String?, host: String?, origin: String?, changesState: Bool) -> String? {
        guard let host, origins.contains("http://" + host) else { return "unknown Host" }
        guard matches(queryToken) || matches(Self.cookieToken(cookie)) else { return "missing or wrong session token" }
        if changesState {
            guard let origin, origins.contains(origin) else { return "cross-origin request refused" }
        }
        return nil
    }
}
