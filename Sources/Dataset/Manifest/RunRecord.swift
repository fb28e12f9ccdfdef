import Foundation
import GRDB

/// Rows of the `runs` table: which command ran, with what settings, when, and what it counted.
public enum RunRecord {
    public static func start(command: String, settingsJSON: String, in manifest: Manifest) throws -> Int64 {
        try manifest.write { db in
            try db.execute(sql: "INSERT INTO runs(command, settings, started_at, status, dsbuild_version) VALUES (?, ?, ?, 'running', ?)",
                           arguments: [command, SecretRedactor.redact(settingsJSON), Date().timeIntervalSince1970, DSBuildVersion.string])
            return db.lastInsertedRowID
        }
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
