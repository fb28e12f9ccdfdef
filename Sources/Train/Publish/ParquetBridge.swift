import Dataset
import Foundation

/// Writes parquet files through the bundled Python environment's pyarrow (`trainer/parquet_write.py`): dsbuild
/// hands it a spec and one JSON-lines file of rows per table, the script reads the images from the files the
/// rows name and writes each table whole (temporary, then renamed). A file whose plan (its rows, the images'
/// written bytes, its columns and the script) is unchanged since it was written, and whose bytes are still those
/// the release record lists, is kept as it is.
struct ParquetBridge {
    /// The interpreter (a venv's `bin/python` with pyarrow 22).
    let python: String
    /// `trainer/parquet_write.py`.
    let script: URL
    /// The release folder.
    let folder: URL
    /// Where the rows files go for the run (removed by the caller).
    let staging: URL

    /// Writes the files whose plan changed, or whose bytes are no longer those the release record lists; returns
    /// how many were written and how many kept. Every written file is checked: the script must report it with its
    /// row count (it reads the file back), and it must be in the folder.
    func write(_ files: [PublishFile], imageHashes: [String: String], release: ReleaseFolder) throws -> (written: Int, kept: Int) {
        let fm = FileManager.default
        let scriptHash = (try? Data(contentsOf: script)).map(ContentHash.sha256Hex) ?? "missing"
        var pending: [(file: PublishFile, rows: URL, plan: String)] = []
        var kept = 0
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        for (i, file) in files.enumerated() {
            let rows = try file.rowsJSONL()
            let columns = try JSONSerialization.data(withJSONObject: file.columns.map(\.json), options: [.sortedKeys])
            let images = file.rows.compactMap { $0.object["image_sha256"] as? String }.map { imageHashes[$0] ?? $0 }
            let plan = ContentHash.sha256Hex([ContentHash.sha256Hex(rows), ContentHash.sha256Hex(columns), scriptHash,
                                              images.joined(separator: ",")].joined(separator: "|"))
            if release.unchanged(file.path, plan: plan) {
                try release.record(file.path, plan: plan)
                kept += 1
                continue
            }
            let rowsURL = staging.appendingPathComponent("rows-\(i).jsonl")
            try AtomicFile.write(rows, to: rowsURL)
            pending.append((file, rowsURL, plan))
        }
        guard !pending.isEmpty else { return (0, kept) }
        let spec = pending.map { item -> [String: Any] in
            ["out": folder.appendingPathComponent(item.file.path).path, "rows": item.rows.path, "columns": item.file.columns.map(\.json)]
        }
        let specURL = staging.appendingPathComponent("spec.json")
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys, .withoutEscapingSlashes]), to: specURL)
        let reported = try run(spec: specURL)
        for item in pending {
            let out = folder.appendingPathComponent(item.file.path).path
            guard let rows = reported[out] else {
                throw PublishError(.parquet, item: "\(python) running \(script.lastPathComponent)",
                                   "exited 0 but did not report writing \(item.file.path); is it the Python of the bundled trainer (with pyarrow)?")
            }
            guard rows == item.file.rows.count, fm.fileExists(atPath: out) else {
                throw PublishError(.parquet, item: "\(python) running \(script.lastPathComponent)",
                                   "wrote \(rows) rows to \(item.file.path), expected \(item.file.rows.count)")
            }
            try release.record(item.file.path, plan: item.plan)
        }
        return (pending.count, kept)
    }

    /// Runs the script; returns the rows it reports per written file (what it read back from each).
    private func run(spec: URL) throws -> [String: Int] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path, "--spec", spec.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let err = Pipe(), out = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw PublishError(.parquet, item: python, "cannot start it (\(error.localizedDescription)); pass --python PATH or run `dsbuild train --setup`")
        }
        nonisolated(unsafe) var stdout = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stdout = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus != 0 else {
            var reported: [String: Int] = [:]
            for line in String(decoding: stdout, as: UTF8.self).split(separator: "\n") {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                      let path = object["out"] as? String, let rows = object["rows"] as? Int else { continue }
                reported[path] = rows
            }
            return reported
        }
        let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n").map(String.init)
        let last = lines.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? ""
        if process.terminationStatus == 127 {
            throw PublishError(.parquet, item: python, "not found; pass --python PATH or run `dsbuild train --setup`")
        }
        if last.contains("ModuleNotFoundError") {
            throw PublishError(.parquet, item: python, "\(last); its environment lacks pyarrow: run `dsbuild train --setup` (trainer/requirements.txt pins pyarrow)")
        }
        throw PublishError(.parquet, item: "\(python) running \(script.lastPathComponent)",
                           last.isEmpty ? "exited with status \(process.terminationStatus) and no message" : last)
    }
}
