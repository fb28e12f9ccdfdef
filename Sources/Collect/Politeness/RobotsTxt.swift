/// A parsed robots.txt and the RFC 9309 matching rules: the group for our product token (else `*`), the longest
/// matching rule wins, `allow` wins a tie, `*` matches any run of characters and `$` anchors the end.
public struct RobotsTxt: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public let allow: Bool
        public let pattern: String
    }

    /// The rules that apply to our user agent.
    public let rules: [Rule]

    /// Everything allowed: no robots.txt, or one answered with a 4xx status (RFC 9309 §2.3.1.3).
    public static let allowAll = RobotsTxt(rules: [])
    /// Everything disallowed: robots.txt unreachable with a 5xx status or a network error (RFC 9309 §2.3.1.4).
    public static let disallowAll = RobotsTxt(rules: [Rule(allow: false, pattern: "/")])

    public init(rules: [Rule]) {
        self.rules = rules
    }

    /// Parses `text` and keeps the rules of the groups addressed to `userAgent` (its product token, matched
    /// case-insensitively), or of the `*` groups when none is.
    public init(parsing text: String, userAgent: String) {
        let token = userAgent.split(separator: "/").first.map { $0.lowercased() } ?? userAgent.lowercased()
        var specific: [Rule] = []
        var wildcard: [Rule] = []
        var foundSpecific = false
        var groupAgents: [String] = []
        var inRules = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "user-agent":
                if inRules { groupAgents = []; inRules = false }
                groupAgents.append(value.lowercased())
            case "allow", "disallow":
                inRules = true
                guard !value.isEmpty else { continue }
                let rule = Rule(allow: key == "allow", pattern: value)
                if groupAgents.contains(token) {
                    specific.append(rule)
                    foundSpecific = true
                } else if groupAgents.contains("*") {
                    wildcard.append(rule)
                }
            default:
                // sitemap, crawl-delay and unknown keys neither start nor end a group.
                continue
            }
        }
        // A group for our token with no rules still counts as addressed to us (it allows everything).
        if !foundSpecific {
            let mentioned = text.lowercased().split(whereSeparator: { $0 == "\n" || $0 == "\r" }).contains { line in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 && parts[0].trimmingCharacters(in: .whitespaces) == "user-agent"
                    && parts[1].trimmingCharacters(in: .whitespaces) == token
            }
            rules = mentioned ? [] : wildcard
        } else {
            rules = specific
        }
    }

    /// Whether `path` (path and query of a URL, starting with `/`) may be fetched.
    public func allows(_ path: String) -> Bool {
        let target = path.isEmpty ? "/" : path
        if target == "/robots.txt" { return true }
        var best: Rule?
        for rule in rules where Self.matches(pattern: Array(rule.pattern.utf8), path: Array(target.utf8)) {
            guard let current = best else { best = rule; continue }
            if rule.pattern.utf8.count > current.pattern.utf8.count
                || (rule.pattern.utf8.count == current.pattern.utf8.count && rule.allow && !current.allow) {
                best = rule
            }
        }
        return best?.allow ?? true
    }

    /// Prefix match with `*` (any run) and a trailing `$` (end of path).
    static func matches(pattern: [UInt8], path: [UInt8]) -> Bool {
        let star = UInt8(ascii: "*"), dollar = UInt8(ascii: "$")
        var anchored = false
        var pattern = pattern
        if pattern.last == dollar {
            anchored = true
            pattern.removeLast()
        }
        // Classic wildcard matching with backtracking to the last star.
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < path.count {
            if p == pattern.count, !anchored { return true }
            if p < pattern.count, pattern[p] == star {
                starP = p
                starS = s
                p += 1
            } else if p < pattern.count, pattern[p] == path[s] {
                p += 1
                s += 1
            } else if starP >= 0 {
                p = starP + 1
                starS += 1
                s = starS
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}
