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
    }

    /// Prints a message line without breaking the progress line.
    public func message(_ text: String) {
        guard style != .quiet else { return }
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
