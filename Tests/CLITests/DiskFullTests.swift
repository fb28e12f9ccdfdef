import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Case 2 of issue 15: on a full disk, collect used to record good images as permanent `unreadable_file` /
/// `aborted` (retryable = 0), print a raw `SQLite error 13`, and a rerun after space was freed never fetched them.
/// Now a full disk is a transient failure naming the path and the free space; the manifest and the store stay
/// consistent, and a rerun with space fetches everything. The workspace lives on a small tmpfs.
@Suite(.serialized) struct DiskFullTests {
    let cli = CommandRunner()

    /// An 8 MB tmpfs at a fresh folder, unmounted by `unmount`; nil (with the reason) where mounting is not allowed.
    final class SmallDisk {
        let mountPoint: URL
        init?(at mountPoint: URL, megabytes: Int) {
            self.mountPoint = mountPoint
            try? FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
            guard Self.sh("mount -t tmpfs -o size=\(megabytes)m tmpfs '\(mountPoint.path)'") == 0 else { return nil }
        }
        func grow(megabytes: Int) -> Bool {
            Self.sh("mount -o remount,size=\(megabytes)m '\(mountPoint.path)'") == 0
        }
        func unmount() { _ = Self.sh("umount '\(mountPoint.path)'") }
        static func sh(_ command: String) -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", command + " 2>/dev/null"]
            guard (try? p.run()) != nil else { return -1 }
            p.waitUntilExit()
            return p.terminationStatus
        }
    }

    /// Images that do not all fit in 8 MB: about 20 MB of real K-Viscuit JPEGs.
    func images() throws -> [URL] {
        let files = try Hardening.images(count: 30, minBytes: 300_000, maxBytes: 1_500_000)
        let total = try files.reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? Int) ?? 0) }
        #expect(total > 12_000_000, "more than the small disk holds (\(total) bytes)")
        return files
    }

    /// Every stored image row names a file whose bytes hash to its sha256, and no file is half-written.
    func expectConsistentStore(_ w: URL) throws {
        for row in try Hardening.rows(w, "SELECT sha256, path, bytes FROM images") {
            let file = w.appendingPathComponent(row[1])
            #expect(FileManager.default.fileExists(atPath: file.path), "stored image \(row[1]) exists")
            if FileManager.default.fileExists(atPath: file.path) {
                #expect(try ContentHash.sha256Hex(fileAt: file) == row[0], "stored image \(row[1]) is whole")
            }
        }
        let enumerator = FileManager.default.enumerator(at: w.appendingPathComponent("images"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard !url.hasDirectoryPath, !url.path.contains("/.tmp/"), url.pathExtension != "part" else { continue }
            let name = url.deletingPathExtension().lastPathComponent
            #expect(try ContentHash.sha256Hex(fileAt: url) == name, "no torn file in the store: \(url.lastPathComponent)")
        }
    }

    func fillThenFree(source arguments: [String], files: [URL], label: String) throws {
        let tmp = TemporaryDirectory("dsbuild-full")
        guard let disk = SmallDisk(at: tmp.path("disk"), megabytes: 8) else {
            Issue.record("cannot mount a tmpfs here (needs root and mount permission): the disk-full case was not run for \(label)")
            return
        }
        defer { disk.unmount() }
        let w = disk.mountPoint.appendingPathComponent("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let collect = ["collect", "--workspace", w.path, "--concurrency", "2"] + arguments
        let full = try cli.run(collect)
        #expect(full.status != 0, "\(label): a full disk is a failure of the run")
        #expect(!full.stderr.contains("SQLite error"), "\(label): a human message, not SQLite's code: \(full.stderr)")
        #expect(full.stderr.contains("no space left on the device writing \(w.path)"), "\(label): names the path: \(full.stderr)")
        #expect(full.stderr.contains(" free; free some space and run the command again"), "\(label): names the free space")
        let permanent = try Hardening.rows(w, "SELECT reason, detail FROM downloads WHERE status = 'failed' AND retryable = 0")
        #expect(permanent.isEmpty, "\(label): nothing recorded as a permanent failure: \(permanent)")
        let reasons = Set(try Hardening.rows(w, "SELECT reason FROM downloads WHERE status = 'failed'").map { $0[0] })
        #expect(reasons.isSubset(of: ["disk_full"]), "\(label): \(reasons)")
        let storedFirst = Int(try Hardening.rows(w, "SELECT COUNT(*) FROM images")[0][0])!
        #expect(storedFirst < files.count, "\(label): the disk filled up before the end")
        try expectConsistentStore(w)

        #expect(disk.grow(megabytes: 256), "space freed")
        let rerun = try cli.run(collect)
        #expect(rerun.status == 0, "\(label): the rerun fetches the rest: \(rerun.stderr)")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM images") == [["\(files.count)"]], "\(label): every image stored")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM downloads WHERE status != 'ok'") == [["0"]])
        try expectConsistentStore(w)
    }

    @Test func fullDiskUnderTheDirectorySourceIsTransientAndARerunStoresEveryImage() throws {
        let tmp = TemporaryDirectory()
        let files = try images()
        let source = try Hardening.directorySource(files, keyword: "hanbok", in: tmp.path("src"))
        try fillThenFree(source: ["--sources", "directory", "--source-file", source.path], files: files, label: "directory")
    }

    @Test func fullDiskUnderAnHTTPSourceIsTransientAndARerunStoresEveryImage() throws {
        let tmp = TemporaryDirectory()
        let files = try images()
        let server = try Hardening.imageServer(files)
        defer { server.stop() }
        try Hardening.urlList(files, server: server, keyword: "hanbok", at: tmp.path("urls.csv"))
        try fillThenFree(source: ["--sources", "urls", "--source-file", tmp.path("urls.csv").path, "--keyword-column", "keyword",
                                            "--allow-host", "127.0.0.1:\(server.port)"],
                         files: files, label: "http")
    }
    /// The shard folder on a disk too small for the paired tars: the error names the file and the free space
    /// (not `NSCocoaErrorDomain Code=640`), and a rerun with space writes shards equal to a run that never filled.
    @Test func fullDiskUnderShardsNamesTheFileAndARerunFinishesTheShards() throws {
        let tmp = TemporaryDirectory("dsbuild-full-shards")
        let files = try images()
        let source = try Hardening.directorySource(files, keyword: "hanbok", in: tmp.path("src"))
        try "filter:\n  min_short_side: 0\n  aspect_ratio: [0.1, 10]\n  duplicates: {enabled: false}\n  watermark: {enabled: false}\n"
            .write(to: tmp.path("r.yaml"), atomically: true, encoding: .utf8)
        let w = tmp.path("w")
        for arguments in [["init", w.path, "--recipe", tmp.path("r.yaml").path], ["collect", "--workspace", w.path, "--sources", "directory", "--source-file", source.path],
                          ["filter", "--workspace", w.path]] {
            let r = try cli.run(arguments + ["--quiet"])
            try #require(r.status == 0, "\(arguments[0]): \(r.stderr)")
        }
        guard let disk = SmallDisk(at: tmp.path("disk"), megabytes: 8) else {
            Issue.record("cannot mount a tmpfs here (needs root and mount permission): the shards disk-full case was not run")
            return
        }
        defer { disk.unmount() }
        let out = disk.mountPoint.appendingPathComponent("shards")
        let full = try cli.run(["shards", "--workspace", w.path, "--out", out.path, "--quiet"])
        #expect(full.status != 0)
        #expect(!full.stderr.contains("NSCocoaErrorDomain"), "\(full.stderr)")
        #expect(full.stderr.contains("no space left on the device writing \(out.path)/"), "\(full.stderr)")
        #expect(full.stderr.contains(" free; free some space and run the command again"), "\(full.stderr)")
        #expect(disk.grow(megabytes: 256))
        let rerun = try cli.run(["shards", "--workspace", w.path, "--out", out.path, "--quiet"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let reference = try cli.run(["shards", "--workspace", w.path, "--out", tmp.path("reference").path, "--quiet"])
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(try shardHashes(out) == shardHashes(tmp.path("reference")))
        #expect(try !shardHashes(out).isEmpty)
    }

    /// sha256 of every shard file (`paired/`, `text/`) by relative path; no temporaries left.
    func shardHashes(_ folder: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for sub in ["paired", "text"] {
            let dir = folder.appendingPathComponent(sub)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
                out["\(sub)/\(name)"] = try ContentHash.sha256Hex(fileAt: dir.appendingPathComponent(name))
            }
        }
        return out
    }
}
