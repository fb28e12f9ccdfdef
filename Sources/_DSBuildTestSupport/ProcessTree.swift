import Foundation

/// Stopping servers a test started as child processes. Children started through Foundation's `Process` from a
/// pool thread can inherit a signal mask that blocks SIGTERM, so these use SIGKILL, and take the whole tree:
/// a Python wrapper's server child would otherwise outlive it.
public enum ProcessTree {
    /// `pid` and every descendant (from /proc/<pid>/task/*/children), deepest first.
    public static func descendants(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        let children = tasks.flatMap { task -> [Int32] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return children.flatMap(descendants(of:)) + [pid]
    }

    /// SIGKILL to `pid` and all its descendants.
    public static func kill(_ pid: Int32) {
        guard pid > 0 else { return }
        for p in descendants(of: pid) { Glibc.kill(p, SIGKILL) }
    }
}
