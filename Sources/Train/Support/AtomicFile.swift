import Dataset
import Foundation

/// Writes a file whole or not at all: into a hidden temporary beside it, flushed, then renamed over it.
enum AtomicFile {
    /// Writes `data` to `url`; a full disk, quota or I/O error is a `StorageError` naming the file and the free
    /// space (the shards stay resumable: a rerun writes what is missing).
    static func write(_ data: Data, to url: URL) throws {
        do {
            try writeUnmapped(data, to: url)
        } catch {
            if let storage = StorageError.from(error, path: url.path) { throw storage }
            throw error
        }
    }

    private static func writeUnmapped(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: tmp.path])
        }
        let handle = try FileHandle(forWritingTo: tmp)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
        if rename(tmp.path, url.path) != 0 {
            let code = errno
            if StorageError.codes.contains(code) {
                try? FileManager.default.removeItem(at: tmp)
                throw StorageError(code: code, path: url.path)
            }
            try? FileManager.default.removeItem(at: tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                           NSLocalizedDescriptionKey: String(cString: strerror(code))])
        }
    }

    /// Removes temporaries a killed writer left in `dir` (names `.<file>.<pid>.tmp`).
    static func removeStaleTemporaries(in dir: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
        }
    }
}
