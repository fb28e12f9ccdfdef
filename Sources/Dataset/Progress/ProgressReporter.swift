import Foundation
import Synchronization

/// Shows progress of long work on stderr: a redrawn line `[done/total] rate ETA label` on a terminal, a plain
/// line every few seconds otherwise, nothing when quiet. Safe to call from any task.
public final class ProgressReporter: Sendable {
    public enum Style: Sendable { case terminal, plain, quiet }

    private struct State {
        var label = ""
        var total = 0
        var done = 0
        var failed = 0
        var started = Date()
        var lastDraw = Date.distantPast
        var active = false
    }

    public let style: Style
    private let state = Mutex(State())
    /// The reporter of the stage running now (set by `start`, cleared by `finish`): where `announceWait` shows.
    private static let active = Mutex<ProgressReporter?>(nil)
    /// Waits longer than this are shown on the progress line whatever the log level.
    public static let announcedWaitSeconds: Double = 10
    private static let lastAnnouncement = Mutex<(what: String, at: Date)?>(nil)
    private let interval: TimeInterval

    public init(style: Style, plainInterval: TimeInterval = 5) {
        self.style = style
        self.interval = style == .terminal ? 0.1 : plainInterval
    }

    /// The style for this process: quiet when asked, a redrawn line on a TTY, plain lines otherwise.
    public static func automatic(quiet: Bool) -> ProgressReporter {
        if quiet { return ProgressReporter(style: .quiet) }
        return ProgressReporter(style: isatty(2) != 0 ? .terminal : .plain)
    }

    public func start(_ label: String, total: Int) {
        state.withLock {
            $0 = State(label: label, total: total, done: 0, failed: 0, started: Date(), lastDraw: .distantPast, active: true)
        }
        Self.active.withLock { $0 = self }
        draw(force: style == .plain)
    }

    public func setTotal(_ total: Int) {
        state.withLock { $0.total = total }
    }

    public func advance(by count: Int = 1, failed: Bool = false) {
        state.withLock {
            $0.done += count
            if failed { $0.failed += count }
        }
        draw(force: false)
    }

    public func finish() {
        draw(force: true)
        if style == .terminal { Self.write("\n") }
        state.withLock { $0.active = false }
        Self.active.withLock { if $0 === self { $0 = nil } }
    }

    /// Shows a wait of more than `announcedWaitSeconds` (a server's `Retry-After`, a rate-limit pause, a backoff)
    /// on the active progress line, so a long pause is never silent: `waiting 42 s for api.example.org (…)`.
    public static func announceWait(seconds: Double, for what: String) {
        guard seconds > announcedWaitSeconds, let reporter = active.withLock({ $0 }) else { return }
        // Concurrent requests waiting for the same thing say it once.
        let now = Date()
        let repeated = lastAnnouncement.withLock { last -> Bool in
            if let last, last.what == what, now.timeIntervalSince(last.at) < announcedWaitSeconds { return true }
            last = (what, now)
            return false
        }
        guard !repeated else { return }
        reporter.message("waiting \(formatDuration(seconds)) for \(what)")
    }

    /// Prints a message line without breaking the progress line.
    public func message(_ text: String) {
        guard style != .quiet else { return }
        let text = SecretRedactor.redact(text)
        if style == .terminal { Self.write("\r\u{1B}[K") }
        Self.write(text + "\n")
        if style == .terminal { draw(force: true) }
    }

    private func draw(force: Bool) {
        guard style != .quiet else { return }
        let line: String? = state.withLock { s in
            guard s.active else { return nil }
            let now = Date()
            if !force && now.timeIntervalSince(s.lastDraw) < interval { return nil }
            s.lastDraw = now
            return Self.render(s, now: now)
        }
        guard let line else { return }
        if style == .terminal {
            Self.write("\r\u{1B}[K" + line)
        } else {
            Self.write(line + "\n")
        }
    }

    private static func render(_ s: State, now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(s.started), 0.001)
        let rate = Double(s.done) / elapsed
        var text = "[\(s.done)/\(s.total)] \(String(format: "%.1f", rate))/s"
        if s.total > 0, s.done > 0, s.done < s.total {
            text += " ETA \(formatDuration(Double(s.total - s.done) / max(rate, 0.0001)))"
        }
        if s.failed > 0 { text += " \(s.failed) failed" }
        return "\(s.label) \(text)"
    }

    public static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }

    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
