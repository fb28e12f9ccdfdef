import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// Helpers the hardening tests share: real K-Viscuit images, a loopback image server, manifest reads.
enum Hardening {
    /// K-Viscuit image files (sorted by name), those between `minBytes` and `maxBytes` in size.
    static func images(count: Int, minBytes: Int = 0, maxBytes: Int = .max) throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.kViscuitImages.path)
            .filter { $0.hasSuffix(".jpg") }
            .sorted { (Int($0.dropLast(4)) ?? 0) < (Int($1.dropLast(4)) ?? 0) }
        var chosen: [URL] = []
        var seen = Set<String>()
        for name in names where chosen.count < count {
            let url = TestPaths.kViscuitImages.appendingPathComponent(name)
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            guard size >= minBytes, size <= maxBytes, seen.insert(try ContentHash.sha256Hex(fileAt: url)).inserted else { continue }
            chosen.append(url)
        }
        return chosen
    }

    /// A folder `root/<keyword>/` holding copies of `files` (the directory source's input).
    static func directorySource(_ files: [URL], keyword: String, in root: URL) throws -> URL {
        let folder = root.appendingPathComponent(keyword)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in files {
            try FileManager.default.copyItem(at: file, to: folder.appendingPathComponent(file.lastPathComponent))
        }
        return root
    }

    /// Serves `files` as `/img/<name>` (JPEG), each reply after `delay`; robots.txt is 404 (allowed).
    static func imageServer(_ files: [URL], delay: Duration? = nil) throws -> LoopbackHTTPServer {
        var bodies: [String: Data] = [:]
        for file in files { bodies["/img/\(file.lastPathComponent)"] = try Data(contentsOf: file) }
        let served = bodies
        return try LoopbackHTTPServer { request in
            guard let body = served[request.path] else { return .status(404) }
            var response = LoopbackResponse.ok(body, contentType: "image/jpeg")
            response.delayBeforeHeaders = delay
            return response
        }
    }

    /// A URL list (CSV) naming each of `files` on `server`, all under `keyword`.
    static func urlList(_ files: [URL], server: LoopbackHTTPServer, keyword: String, at url: URL) throws {
        var csv = "url,keyword\n"
        for file in files { csv += "\(server.url("/img/\(file.lastPathComponent)").absoluteString),\(keyword)\n" }
        try csv.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Rows of `sql` on the workspace's manifest, read-only, as strings.
    static func rows(_ workspace: URL, _ sql: String) throws -> [[String]] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: workspace.appendingPathComponent("dsbuild.sqlite").path, configuration: config)
        return try queue.read { db in
            try Row.fetchAll(db, sql: sql).map { row in row.columnNames.map { name in
                let value: DatabaseValue = row[name]
                return value.isNull ? "" : (String.fromDatabaseValue(value) ?? "\(value)")
            } }
        }
    }

    /// `(command, status)` of every run, in order.
    static func runs(_ workspace: URL) throws -> [(command: String, status: String)] {
        try rows(workspace, "SELECT command, status FROM runs ORDER BY id").map { ($0[0], $0[1]) }
    }

    /// Waits until `condition` holds (polling), at most `seconds`.
    static func waitUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// Whether the manifest shows a `running` row for `command` (the command is past its setup, signals handled).
    static func isRunning(_ workspace: URL, _ command: String) -> Bool {
        ((try? runs(workspace)) ?? []).contains { $0.command == command && $0.status == "running" }
    }
}
