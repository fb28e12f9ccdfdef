import Foundation

/// How long a server asked us to wait, from `Retry-After` (delta-seconds or an HTTP-date) or the
/// OpenAI-style `retry-after-ms`.
public enum RetryAfter {
    public struct Hint: Sendable, Equatable {
        public var delay: Duration
        /// The header it came from and its raw value, e.g. `Retry-After: 1`.
        public var source: String

        public init(delay: Duration, source: String) {
            self.delay = delay
            self.source = source
        }
    }

    /// Parses a `Retry-After` value: delta-seconds (`120`) or an HTTP-date (IMF-fixdate, RFC 850 or asctime).
    /// A date in the past gives zero. Nil when the value is neither.
    public static func parse(_ value: String, now: Date = Date()) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            guard let seconds = Int64(text) else { return .seconds(Int64.max / 1_000_000_000_000) }
            return .seconds(seconds)
        }
        guard let date = parseHTTPDate(text) else { return nil }
        let delta = date.timeIntervalSince(now)
        return delta > 0 ? .milliseconds(Int64((delta * 1000).rounded(.up))) : .zero
    }

    /// Parses `retry-after-ms` (a non-negative number of milliseconds, possibly fractional).
    public static func parseMilliseconds(_ value: String) -> Duration? {
        guard let ms = Double(value.trimmingCharacters(in: .whitespaces)), ms >= 0, ms.isFinite else { return nil }
        return .microseconds(Int64(ms * 1000))
    }

    /// The server's wait hint from response headers: `retry-after-ms` first (more precise), then `Retry-After`.
    public static func hint(in headers: HTTPHeaders, now: Date = Date()) -> Hint? {
        if let raw = headers["retry-after-ms"], let delay = parseMilliseconds(raw) {
            return Hint(delay: delay, source: "retry-after-ms: \(raw)")
        }
        if let raw = headers["Retry-After"], let delay = parse(raw, now: now) {
            return Hint(delay: delay, source: "Retry-After: \(raw)")
        }
        return nil
    }

    /// RFC 9110 §5.6.7: IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, obsolete RFC 850
    /// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`. Parsed by hand: the
    /// formats are fixed, and DateFormatter's zone parsing differs between platforms.
    public static func parseHTTPDate(_ text: String) -> Date? {
        let tokens = text.replacingOccurrences(of: ",", with: " ").split(separator: " ").map(String.init)
        var day: Int?, month: Int?, year: Int?, time: String?
        switch tokens.count {
        case 6 where tokens[5] == "GMT":  // IMF-fixdate
            (day, month, year, time) = (Int(tokens[1]), monthNumber(tokens[2]), Int(tokens[3]), tokens[4])
        case 4 where tokens[3] == "GMT":  // RFC 850
            let parts = tokens[1].split(separator: "-").map(String.init)
            guard parts.count == 3, let yy = Int(parts[2]) else { return nil }
            (day, month, time) = (Int(parts[0]), monthNumber(parts[1]), tokens[2])
            year = parts[2].count == 2 ? (yy < 70 ? 2000 + yy : 1900 + yy) : yy
        case 5:  // asctime
            (month, day, time, year) = (monthNumber(tokens[1]), Int(tokens[2]), tokens[3], Int(tokens[4]))
        default:
            return nil
        }
        let clock = (time ?? "").split(separator: ":").compactMap { Int($0) }
        guard let day, let month, let year, clock.count == 3, (1...31).contains(day), clock[0] < 24, clock[1] < 60,
              clock[2] < 61 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "GMT")!
        let components = DateComponents(year: year, month: month, day: day, hour: clock[0], minute: clock[1], second: clock[2])
        return calendar.date(from: components)
    }

    private static func monthNumber(_ name: String) -> Int? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        return months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }
}

/// Parses the durations in OpenAI's `x-ratelimit-reset-requests` / `-tokens` headers, Go-style: `6m0s`,
/// `12ms`, `1.5s`, `1h2m3.5s`, `250us`; a bare number means seconds. Nil when malformed.
public func parseRateLimitDuration(_ value: String) -> Duration? {
    let text = value.trimmingCharacters(in: .whitespaces)
    guard !text.isEmpty else { return nil }
    if let seconds = Double(text), seconds >= 0, seconds.isFinite {
        return .microseconds(Int64((seconds * 1_000_000).rounded()))
    }
    let units: [(String, Double)] = [("ms", 1e3), ("us", 1), ("µs", 1), ("ns", 1e-3), ("h", 3600e6), ("m", 60e6), ("s", 1e6)]
    var rest = Substring(text)
    var micros = 0.0
    while !rest.isEmpty {
        let number = rest.prefix { $0.isASCIIDigit || $0 == "." }
        guard !number.isEmpty, let amount = Double(number) else { return nil }
        rest = rest.dropFirst(number.count)
        guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
        rest = rest.dropFirst(unit.count)
        micros += amount * scale
    }
    return .microseconds(Int64(micros.rounded()))
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
