import Foundation
import Synchronization

/// The one place that takes secrets out of text before it is shown or stored: every error description, stored
/// `detail`/`reason`, log line, progress message and report goes through `redact`.
///
/// Two kinds of things are removed:
/// - the values of the environment variables dsbuild reads secrets from (`OPENAI_API_KEY`, `FLICKR_API_KEY`, and
///   whatever `llm.api_key_env` / `collect.sources.<name>.api_key_env` name), registered with `register`, in every
///   form they travel in: raw, trimmed of a Windows `\r` or other whitespace, percent-encoded (upper and lower
///   hex, space as `%20` or `+`), JSON-escaped, and base64 (standard and URL-safe) wherever it starts inside an
///   encoded run (`Basic` credentials, a header echoed back base64-encoded);
/// - credentials recognisable by shape: userinfo in any URL (`http://user:pw@host`), `Authorization:` values,
///   and `api_key=` / `key=` / `token=` / … values in URLs, form bodies and JSON bodies that echo them.
public enum SecretRedactor {
    /// What a secret is replaced with.
    public static let mask = "***"
    /// The variables read for secrets whatever the recipe says.
    public static let defaultVariables = ["OPENAI_API_KEY", "FLICKR_API_KEY"]
    /// Shorter values are not treated as secrets (a one-letter "key" would blank every message).
    static let minimumLength = 4

    /// One matcher per registered secret value (raw and trimmed).
    private static let secrets = Mutex<[String: NSRegularExpressionBox]>([:])

    /// Registers the values of `variables` in `environment` as secrets.
    public static func register(variables: [String], in environment: [String: String]) {
        for name in variables {
            if let value = environment[name] { register(secret: value) }
        }
    }

    /// Registers one secret value: it is then masked in every encoding it may travel in.
    public static func register(secret: String) {
        var bases = [secret]
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed != secret { bases.append(trimmed) }
        for base in bases where base.unicodeScalars.count >= minimumLength {
            guard secrets.withLock({ $0[base] == nil }), let regex = try? NSRegularExpression(pattern: pattern(for: base)) else { continue }
            secrets.withLock { $0[base] = NSRegularExpressionBox(regex: regex, length: base.unicodeScalars.count) }
            for (i, core) in base64Cores(of: base).enumerated() {
                guard let regex = try? NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: core)) else { continue }
                secrets.withLock { $0["base64|\(i)|\(base)"] = NSRegularExpressionBox(regex: regex, length: core.count) }
            }
        }
    }

    /// The parts of the base64 encoding of `secret` that depend on its bytes alone, for each of the three places
    /// it can start within an encoded run (after 0, 1 or 2 other bytes), standard and URL-safe: whatever surrounds
    /// the secret (`Bearer `, `user:`), one of these appears in the encoding. Cores shorter than 6 characters are
    /// left out (too common to mask).
    static func base64Cores(of secret: String) -> [String] {
        let bytes = Array(secret.utf8)
        var cores: [String] = []
        for offset in 0..<3 {
            let encoded = Array(Data(Array(repeating: 0, count: offset) + bytes).base64EncodedString())
            let first = (8 * offset + 5) / 6
            let end = 8 * (offset + bytes.count) / 6
            guard end - first >= 6 else { continue }
            let core = String(encoded[first..<end])
            cores.append(core)
            let urlSafe = core.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            if urlSafe != core { cores.append(urlSafe) }
        }
        return cores
    }

    /// The default variables of this process's environment, registered before the first redaction (so a message
    /// formatted before any command set-up is redacted too).
    private static let environmentRegistered: Bool = {
        register(variables: defaultVariables, in: ProcessInfo.processInfo.environment)
        return true
    }()

    /// `text` with every registered secret and every credential-shaped value replaced by `mask`.
    public static func redact(_ text: String) -> String {
        var result = redactRegisteredSecrets(text)
        for pattern in patterns {
            let range = NSRange(result.startIndex..., in: result)
            guard pattern.regex.firstMatch(in: result, range: range) != nil else { continue }
            result = pattern.regex.stringByReplacingMatches(in: result, range: range, withTemplate: pattern.template)
        }
        return result
    }

    /// `text` with every registered secret value replaced by `mask`, in every form it travels in — and nothing
    /// else: for a body that is stored as it came (a chat completion in `llm_cache`), where masking
    /// credential-shaped text (`key=…`) could change what a model wrote or break the body's JSON.
    public static func redactRegisteredSecrets(_ text: String) -> String {
        _ = environmentRegistered
        var result = text
        // Longest first, so a secret containing another is masked whole.
        let known = secrets.withLock { $0.values.sorted { $0.length > $1.length } }
        for secret in known {
            let range = NSRange(result.startIndex..., in: result)
            guard secret.regex.firstMatch(in: result, range: range) != nil else { continue }
            result = secret.regex.stringByReplacingMatches(in: result, range: range, withTemplate: mask)
        }
        return result
    }

    /// `redact` for an optional.
    public static func redact(_ text: String?) -> String? { text.map { redact($0) } }

    /// A URL as it may leave the workspace (shard `.json`/parquet `url`, exports, publish): its userinfo
    /// (`user:password@`) dropped whole and every registered secret masked. The manifest keeps the URL as given
    /// (`candidates.image_url`), since the download needs its credentials; only outputs go through this.
    public static func publicURL(_ text: String) -> String {
        var result = text
        if let scheme = result.range(of: "://") {
            let rest = result[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                result.removeSubrange(scheme.upperBound...at)
            }
        }
        return redactRegisteredSecrets(result)
    }

    // MARK: - Forms

    /// A regular expression matching `secret` with each character in any of the forms it takes in a URL, a form
    /// body, JSON or a log line, mixed freely (encoders differ in what they escape): itself, percent-encoded
    /// (either hex case), `+` for a space, or JSON-escaped (`\/`, `\r`, `\"`, `\\`, `\u00XX`).
    static func pattern(for secret: String) -> String {
        var pattern = ""
        for scalar in secret.unicodeScalars {
            var forms = [NSRegularExpression.escapedPattern(for: String(scalar))]
            forms.append(String(scalar).utf8.map { String(format: "%%(?i:%02x)", $0) }.joined())
            if scalar == " " { forms.append("\\+") }
            let json: [Unicode.Scalar: String] = ["/": "\\\\/", "\r": "\\\\r", "\n": "\\\\n", "\t": "\\\\t",
                                                  "\"": "\\\\\"", "\\": "\\\\\\\\"]
            if let escaped = json[scalar] { forms.append(escaped) }
            if scalar.isASCII { forms.append(String(format: "\\\\u(?i:%04x)", scalar.value)) }
            pattern += "(?:" + forms.joined(separator: "|") + ")"
        }
        return pattern
    }

    // MARK: - Shapes

    struct NSRegularExpressionBox: @unchecked Sendable {
        let regex: NSRegularExpression
        let length: Int
    }

    private struct Pattern: @unchecked Sendable {
        let regex: NSRegularExpression
        let template: String
    }

    /// Parameter names whose values are credentials.
    private static let credentialNames = "api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|token|key|secret|client[_-]?secret|password|passwd|auth|sig|signature"

    private static let patterns: [Pattern] = {
        func make(_ pattern: String, _ template: String) -> Pattern {
            Pattern(regex: try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive]), template: template)
        }
        return [
            // Userinfo in any URL: `scheme://user:pw@host` (also percent-encoded `%40`-free forms).
            make(#"([a-z][a-z0-9+.\-]*://)[^/?#\s@"'<>]+@"#, "$1\(mask)@"),
            // `Authorization: Bearer …`, `"Authorization": "Basic …"`, `authorization=…`.
            make(#"(authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token)\s+)[^\s"',;&]+"#, "$1\(mask)"),
            make(#"(authorization["']?\s*[:=]\s*["']?)(?!bearer\s|basic\s|token\s|\*\*\*)[^\s"',;&]+"#, "$1\(mask)"),
            // `Bearer sk-…` on its own (an echoed header value).
            make(#"\b(bearer)\s+[A-Za-z0-9._~+/=\-]{6,}"#, "$1 \(mask)"),
            // `?api_key=…&`, `token=…` in URLs and form bodies (also percent-encoded `=`).
            make(#"(^|[^a-z0-9_])((?:\#(credentialNames))(?:=|%3d))[^&\s"'#<>;,]+"#, "$1$2\(mask)"),
            // `"api_key": "…"` in JSON.
            make(#"("(?:\#(credentialNames))"\s*:\s*")(?:[^"\\]|\\.)*""#, "$1\(mask)\""),
        ]
    }()
}
