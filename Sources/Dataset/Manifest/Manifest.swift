import Foundation
import GRDB

/// The workspace's SQLite manifest: one WAL-mode database with foreign keys on, opened through GRDB.
///
/// Reads run concurrently; writes are serialised. Every multi-row change goes through `write`, which is one
/// transaction: it commits whole or not at all.
public final class Manifest: Sendable {
    public let path: URL
    private let pool: DatabasePool

    /// Opens (creating when `create` is true) the manifest at `path` and migrates it forward.
    public init(path: URL, create: Bool) throws(WorkspaceError) {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path.path)
        if !exists && !create {
            throw WorkspaceError(.notAWorkspace, path: path.deletingLastPathComponent().path,
                                 detail: "no dsbuild.sqlite in it")
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path.path, configuration: config)
        } catch {
            throw WorkspaceError(.cannotOpen, path: path.path, detail: "\(error)")
        }
        try migrate()
    }

    private func migrate() throws(WorkspaceError) {
        let migrator = ManifestSchema.migrator
        do {
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
                throw WorkspaceError(.schemaTooNew, path: path.path,
                                     detail: "it has migrations \(applied.sorted().joined(separator: ", ")); this dsbuild knows up to \(ManifestSchema.latestVersion)")
            }
            // Up to date: nothing to write (a reader — status, report, estimate — leaves the file as it found it).
            if try pool.read({ db in try migrator.hasCompletedMigrations(db) }) { return }
            try migrator.migrate(pool)
        } catch let error as WorkspaceError {
            throw error
        } catch {
            throw WorkspaceError(.cannotOpen, path: path.path, detail: "migration failed: \(error)")
        }
    }

    /// Runs `body` in one write transaction.
    @discardableResult
    /// A full disk or an I/O error is thrown as a `StorageError` naming the manifest and the free space (rather
    /// than SQLite's bare "SQLite error 13"); the transaction is rolled back, so nothing is half-written.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch {
            throw StorageError.from(error, path: path.path).map { $0 as any Error } ?? error
        }
    }

    /// Runs `body` with a read-only snapshot.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// Async variants for use from tasks, so that a blocked writer never blocks a cooperative thread.
    public func asyncWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let pool = self.pool
        do {
            return try await pool.write { db in try body(db) }
        } catch {
            throw StorageError.from(error, path: path.path).map { $0 as any Error } ?? error
        }
    }

    public func asyncRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let pool = self.pool
        return try await pool.read { db in try body(db) }
    }

    /// The applied migrations, oldest first: in the order this binary declares them (not by name, which would put
    /// `v10-…` before `v9-…`), then any it does not know, by name.
    public func appliedMigrations() throws -> [String] {
        let applied: Set<String> = try pool.read { db in try ManifestSchema.migrator.appliedIdentifiers(db) }
        let known = ManifestSchema.migrationNames.filter(applied.contains)
        return known + applied.subtracting(known).sorted()
    }

    /// The journal mode SQLite reports (`wal` for a manifest opened by dsbuild).
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Checkpoints the WAL into the main file (used before copying a workspace).
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }
}
