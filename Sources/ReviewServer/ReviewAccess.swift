import Crypto
import Foundation

/// Who may use the review server: a request under the session's capability path `/s/<token>/` (every link and
/// fetch of the pages is relative, so the token travels with navigation and no cookie is ever set) that names
/// this server as its `Host`; a state-changing request must also be a POST whose `Origin` is this server. Another
/// local user, another local server the browser visits, or a web page open in the same browser knows neither the
/// token nor the origin.
public struct ReviewAccess: Sendable {
    /// The first segment of every app path: `/s/<token>/…`.
    public static let pathPrefix = "/s/"
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

    /// The app's root path, with the token: `/s/<token>/`.
    public var basePath: String { Self.pathPrefix + token + "/" }

    /// The origins this server answers to.
    public var origins: Set<String> { ["http://127.0.0.1:\(port)", "http://localhost:\(port)"] }

    /// Whether `candidate` is the token (constant time over the bytes).
    public func matches(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        let a = Array(SHA256.hash(data: Data(candidate.utf8))), b = Array(SHA256.hash(data: Data(token.utf8)))
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The token segment of a request path (`/s/<token>/…` → `<token>`) and the app path after it (`/…`; empty
    /// when the path ends at the token), or nil for a path outside `/s/`.
    public static func split(path: String) -> (token: String, route: String)? {
        guard path.hasPrefix(pathPrefix) else { return nil }
        let rest = path.dropFirst(pathPrefix.count)
        guard let slash = rest.firstIndex(of: "/") else { return (String(rest), "") }
        return (String(rest[..<slash]), String(rest[slash...]))
    }

    /// Why a request is refused (nil: allowed). `path`: the request's path; `host` and `origin`: its headers;
    /// `changesState`: a POST.
    public func refusal(path: String, host: String?, origin: String?, changesState: Bool) -> String? {
        guard let host, origins.contains("http://" + host) else { return "unknown Host" }
        guard let (candidate, _) = Self.split(path: path), matches(candidate) else { return "missing or wrong session token" }
        if changesState {
            guard let origin, origins.contains(origin) else { return "cross-origin request refused" }
        }
        return nil
    }
}
