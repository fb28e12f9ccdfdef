import Foundation

/// Names of in-flight temporary files (`<prefix>-<pid>-<uuid>.part` in `images/.tmp`): unique per process and
/// transfer, and telling which process writes them, so a cleanup removes only the files of processes that are gone.
public enum TemporaryPart {
    public static func url(in directory: URL, prefix: String) -> URL {
        directory.appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString).part")
    }

    /// Whether `name` is a part file no live process is writing: its pid is dead, or it has none (an older name).
    /// A file of this process is not stale.
    public static func isStale(_ name: String) -> Bool {
        guard name.hasSuffix(".part") else { return false }
        let fields = name.split(separator: "-")
        guard fields.count >= 3, let pid = Int32(fields[1]) else { return true }
        if pid == getpid() { return false }
        return !(kill(pid, 0) == 0 || errno == EPERM)
    }
}
