import Dataset
import Foundation

/// The release folder as `publish` owns it: a folder it made (or an empty one), never the workspace, the shards
/// folder or a folder of the user's. Its record `.dsbuild-release.json` marks it as a dsbuild release and lists every
/// file a publish wrote there with its sha256, size and (for a parquet file) the plan it was written from; a
/// re-publish deletes only files that record lists, and keeps a parquet file only when the file still has the
/// recorded bytes. `.dsbuild-release.lock` (`flock`) lets one publish at a time write the folder.
final class ReleaseFolder {
    static let recordName = ".dsbuild-release.json"
    static let lockName = ".dsbuild-release.lock"

    /// One written file as the record holds it.
    struct Entry: Codable, Equatable {
        var sha256: String
        var bytes: Int
        /// The parquet plan it was written from (nil for the card and the other files).
        var plan: String?
    }

    let url: URL
    /// The files the previous publish wrote (relative path → entry).
    let previous: [String: Entry]
    private(set) var written: [String: Entry] = [:]
    private let lockFD: Int32

    /// Checks that `url` may be written by a publish of `workspace` (whose shards go to `shards`), creates it,
    /// marks it and takes its lock.
    init(url: URL, workspace: URL, shards: URL) throws {
        let fm = FileManager.default
        let out = url.standardizedFileURL.resolvingSymlinksInPath()
        let root = workspace.standardizedFileURL.resolvingSymlinksInPath()
        let shardsFolder = shards.standardizedFileURL.resolvingSymlinksInPath()
        func inside(_ a: URL, _ b: URL) -> Bool { a.path == b.path || a.path.hasPrefix(b.path.hasSuffix("/") ? b.path : b.path + "/") }
        if inside(root, out) {
            throw PublishError(.folder, item: url.path, "is the workspace or holds it; choose a folder of its own for the release (e.g. WORKSPACE/publish)")
        }
        if inside(out, shardsFolder) {
            throw PublishError(.folder, item: url.path, "is the shards folder (\(shardsFolder.path)); choose another folder for the release")
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: out.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw PublishError(.folder, item: url.path, "is a file, not a folder") }
            let names = (try? fm.contentsOfDirectory(atPath: out.path)) ?? []
            if !names.isEmpty && !names.contains(Self.recordName) {
                throw PublishError(.folder, item: url.path,
                                   "is not empty and is not a dsbuild release (no \(Self.recordName)); publish writes only into a new or empty folder or its own earlier release")
            }
        }
        do {
            try fm.createDirectory(at: out, withIntermediateDirectories: true)
        } catch {
            throw PublishError(.write, item: url.path, "cannot write the folder: \(Self.cause(error))")
        }
        let fd = open(out.appendingPathComponent(Self.lockName).path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PublishError(.write, item: url.path, "cannot write the folder: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw PublishError(.folder, item: url.path, "another publish is writing this folder; run again when it has finished")
        }
        lockFD = fd
        self.url = out
        let recordURL = out.appendingPathComponent(Self.recordName)
        if let data = try? Data(contentsOf: recordURL) {
            previous = (try? JSONDecoder().decode(Record.self, from: data))?.files ?? [:]
        } else {
            previous = [:]
            try writeRecord([:])
        }
    }

    deinit {
        flock(lockFD, LOCK_UN)
        close(lockFD)
    }

    private struct Record: Codable {
        var generator = "dsbuild publish"
        var files: [String: Entry]
    }

    /// A readable cause of a file-system error (no NSCocoaErrorDomain numbers).
    static func cause(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }

    /// Whether the file at `path` is the one the previous publish wrote from `plan` (same plan, same bytes).
    func unchanged(_ path: String, plan: String) -> Bool {
        guard let entry = previous[path], entry.plan == plan,
              let data = try? Data(contentsOf: url.appendingPathComponent(path), options: .alwaysMapped) else { return false }
        return data.count == entry.bytes && ContentHash.sha256Hex(data) == entry.sha256
    }

    /// Records a file of this publish (already in the folder); returns its sha256.
    @discardableResult
    func record(_ path: String, plan: String? = nil) throws -> String {
        guard let data = try? Data(contentsOf: url.appendingPathComponent(path), options: .alwaysMapped) else {
            throw PublishError(.write, item: url.appendingPathComponent(path).path, "was not written")
        }
        let sha = ContentHash.sha256Hex(data)
        written[path] = Entry(sha256: sha, bytes: data.count, plan: plan)
        // Recorded as it is written, so a publish killed midway still knows (and may later delete) what it wrote.
        try writeRecord(previous.merging(written) { _, new in new })
        return sha
    }

    /// Writes `data` as `path` (unchanged bytes are not rewritten) and records it.
    @discardableResult
    func write(_ data: Data, _ path: String) throws -> String {
        let target = url.appendingPathComponent(path)
        if (try? Data(contentsOf: target)) != data {
            do {
                try AtomicFile.write(data, to: target)
            } catch {
                throw PublishError(.write, item: target.path, "cannot write: \(Self.cause(error))")
            }
        }
        return try record(path)
    }

    /// Ends the publish: files of the previous one this one did not write are deleted (only those: the record lists
    /// them), and the record lists this publish's files.
    func finish() throws {
        for path in previous.keys.sorted() where written[path] == nil && Self.isGenerated(path) {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(path))
        }
        try writeRecord(written)
    }

    /// A name this tool writes (a record from elsewhere never makes it delete anything else).
    static func isGenerated(_ path: String) -> Bool {
        if ["README.md", "ATTRIBUTION.csv", "ATTRIBUTION.md", "ATTRIBUTION_EXCLUDED.csv", "croissant.json"].contains(path) { return true }
        let parts = path.split(separator: "/")
        guard parts.count == 2, ["paired", "text", "mcq"].contains(parts[0]) else { return false }
        let name = parts[1]
        return (name.hasPrefix("train-") || name.hasPrefix("test-")) && name.hasSuffix(".parquet") && !name.contains("..")
    }

    private func writeRecord(_ files: [String: Entry]) throws {
        let target = url.appendingPathComponent(Self.recordName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try AtomicFile.write(try encoder.encode(Record(files: files)), to: target)
        } catch {
            throw PublishError(.write, item: url.path, "cannot write the folder: \(Self.cause(error))")
        }
    }
}
