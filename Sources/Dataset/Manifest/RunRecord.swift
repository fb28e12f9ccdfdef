import Foundation
import GRDB
import Synchronization

/// Rows of the `runs` table: which command ran, with what settings, when, and what it counted.
///
/// A row stays `running` only while its process lives. A process killed outright (SIGKILL, power loss, a crash)
/// cannot close its rows, so the next writer does: holding the workspace lock, it knows no other process is
/// writing, and marks every `running` row it did not start itself as `killed` (`finished_at` stays empty: when it
/// died is unknown).
public enum RunRecord {
    /// The status of a row whose process ended without closing it.
    public static let killedStatus = "killed"

    /// Rows this process started, so its own `running` rows are never taken for a dead process's.
    private static let ours = Mutex<Set<Int64>>([])

    public static func start(command: String, settingsJSON: String, in manifest: Manifest) throws -> Int64 {
        let closeAbandoned = WorkspaceLock.isHeld(root: manifest.path.deletingLastPathComponent())
        let own = ours.withLock { $0 }
        let id = try manifest.write { db -> Int64 in
            if closeAbandoned {
                let mine = own.map(String.init).joined(separator: ",")
                try db.execute(sql: "UPDATE runs SET status = ? WHERE status = 'running' AND id NOT IN (\(mine))",
                               arguments: [killedStatus])
            }
            try db.execute(sql: "INSERT INTO runs(command, settings, started_at, status, dsbuild_version) VALUES (?, ?, ?, 'running', ?)",
                           arguments: [command, SecretRedactor.redact(settingsJSON), Date().timeIntervalSince1970, DSBuildVersion.string])
            return db.lastInsertedRowID
        }
        ours.withLock { _ = $0.insert(id) }
        return id
    }

    public static func finish(id: Int64, status: String, summary: StageSummary, in manifest: Manifest) throws {
        var counts: [String: Int] = summary.counts
        counts["pending"] = summary.pending
        counts["failures"] = summary.failures
        try finish(id: id, status: status, countsJSON: JSONText.encode(counts), in: manifest)
    }

    /// Runs `body` with a `runs` row for `command`: `ok` when it returns, `interrupted` when it was cancelled
    /// (a `CancellationError`, or any error while the task is cancelled), `error` otherwise. Errors are rethrown.
    public static func recording<T>(command: String, settingsJSON: String = "{}", in manifest: Manifest,
                                    _ body: () async throws -> T) async throws -> T {
        let id = try start(command: command, settingsJSON: settingsJSON, in: manifest)
        do {
            let value = try await body()
            try finish(id: id, status: Task.isCancelled ? "interrupted" : "ok", countsJSON: "{}", in: manifest)
            return value
        } catch {
            let interrupted = error is CancellationError || Task.isCancelled
            try? finish(id: id, status: interrupted ? "interrupted" : "error", countsJSON: "{}", in: manifest)
            throw error
        }
    }

    public static func finish(id: Int64, status: String, countsJSON: String, in manifest: Manifest) throws {
        try manifest.write { db in
            try db.execute(sql: "UPDATE runs SET finished_at = ?, status = ?, counts = ? WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, status, SecretRedactor.redact(countsJSON), id])
        }
    }
}
