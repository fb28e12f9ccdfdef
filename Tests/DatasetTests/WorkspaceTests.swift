import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

@Suite struct WorkspaceTests {
    @Test func createMakesManifestInWALModeWithForeignKeysAndImagesDirectory() throws {
        let tmp = TemporaryDirectory()
        let ws = try Workspace.create(at: tmp.path("ws"))
        #expect(FileManager.default.fileExists(atPath: tmp.path("ws/dsbuild.sqlite").path))
        #expect(FileManager.default.fileExists(atPath: tmp.path("ws/images").path))
        #expect(try ws.manifest.journalMode() == "wal")
        let fk = try ws.manifest.read { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(fk == 1)
        #expect(try ws.manifest.appliedMigrations().last == ManifestSchema.latestVersion)
    }

    @Test func openingAPlainDirectoryIsANotAWorkspaceError() throws {
        let tmp = TemporaryDirectory()
        #expect {
            _ = try Workspace.open(at: tmp.url)
        } throws: { error in
            (error as? WorkspaceError)?.code == .notAWorkspace
                && "\(error)".contains("dsbuild init")
        }
        #expect(!FileManager.default.fileExists(atPath: tmp.path("dsbuild.sqlite").path))
    }

    @Test func openingAMissingDirectoryIsAnError() {
        #expect(throws: WorkspaceError.self) { _ = try Workspace.open(at: URL(fileURLWithPath: "/nonexistent/dsbuild-ws")) }
    }

    @Test func reopeningKeepsDataAndCreateIsIdempotent() throws {
        let tmp = TemporaryDirectory()
        do {
            let ws = try Workspace.create(at: tmp.url)
            try KeywordStore.insert([KeywordEntry(text: "Gat")], into: ws.manifest)
        }
        let again = try Workspace.create(at: tmp.url)
        #expect(try KeywordStore.count(in: again.manifest) == 1)
        let opened = try Workspace.open(at: tmp.url)
        #expect(try KeywordStore.all(in: opened.manifest).map(\.entry.text) == ["Gat"])
    }

    @Test func aManifestFromANewerDsbuildIsRefused() throws {
        let tmp = TemporaryDirectory()
        do {
            let ws = try Workspace.create(at: tmp.url)
            try ws.manifest.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES ('v99-from-the-future')")
            }
        }
        #expect {
            _ = try Workspace.open(at: tmp.url)
        } throws: { error in
            (error as? WorkspaceError)?.code == .schemaTooNew && "\(error)".contains("upgrade")
        }
    }

    @Test func anOldManifestIsMigratedForward() throws {
        // A manifest that has no migrations applied yet (as an older binary would leave it before a new
        // migration) is brought to the latest version on open.
        let tmp = TemporaryDirectory()
        let path = tmp.path("dsbuild.sqlite")
        let queue = try DatabaseQueue(path: path.path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE unrelated(x)") }
        try queue.close()
        let ws = try Workspace.open(at: tmp.url)
        #expect(try ws.manifest.appliedMigrations().last == ManifestSchema.latestVersion)
        #expect(try ws.manifest.read { db in try db.tableExists("keywords") })
    }

    @Test func storingAnImageTwiceKeepsOneFile() throws {
        let tmp = TemporaryDirectory()
        let ws = try Workspace.create(at: tmp.url)
        try FileManager.default.createDirectory(at: ws.temporaryDirectory, withIntermediateDirectories: true)
        let sha = String(repeating: "ab", count: 32)
        for _ in 0..<2 {
            let t = ws.temporaryDirectory.appendingPathComponent(UUID().uuidString)
            try Data("x".utf8).write(to: t)
            let rel = try ws.storeImage(temporaryFile: t, sha256: sha, fileExtension: "jpg")
            #expect(rel == "images/ab/\(sha).jpg")
            #expect(!FileManager.default.fileExists(atPath: t.path))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: tmp.path("images/ab").path)
        #expect(files == ["\(sha).jpg"])
    }

    @Test func aFailedMultiRowWriteLeavesNothingHalfWritten() throws {
        let tmp = TemporaryDirectory()
        let ws = try Workspace.create(at: tmp.url)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try ws.manifest.write { db in
                try db.execute(sql: "INSERT INTO keywords(text, created_at) VALUES ('a', 0)")
                try db.execute(sql: "INSERT INTO keywords(text, created_at) VALUES ('b', 0)")
                throw Boom()
            }
        }
        #expect(try KeywordStore.count(in: ws.manifest) == 0)
        // A constraint violation in the middle of a batch rolls the whole batch back too.
        #expect(throws: (any Error).self) {
            try ws.manifest.write { db in
                try db.execute(sql: "INSERT INTO keywords(text, created_at) VALUES ('c', 0)")
                try db.execute(sql: "INSERT INTO candidates(keyword_id, source, source_id, image_url, created_at) VALUES (999, 's', '1', 'u', 0)")
            }
        }
        #expect(try KeywordStore.count(in: ws.manifest) == 0)
    }

    @Test func aKilledWriterLeavesNoPartialBatch() throws {
        // A child process inserts 1,000 keywords in one transaction and is SIGKILLed before it commits;
        // reopening finds none of them.
        let tmp = TemporaryDirectory()
        _ = try Workspace.create(at: tmp.url)
        let db = tmp.path("dsbuild.sqlite").path
        let script = """
            import sqlite3, os, signal
            c = sqlite3.connect('\(db)', isolation_level=None)
            c.execute('BEGIN')
            for i in range(1000):
                c.execute("INSERT INTO keywords(text, created_at) VALUES (?, 0)", (f'k{i}',))
            os.kill(os.getpid(), signal.SIGKILL)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let ws = try Workspace.open(at: tmp.url)
        #expect(try KeywordStore.count(in: ws.manifest) == 0)
    }
}
