import Dataset
import Foundation

/// Writes parquet files through the bundled Python environment's pyarrow (`trainer/parquet_write.py`): dsbuild
/// hands it a spec and one JSON-lines file of rows per table, the script reads the images from the files the
/// rows name and writes each table whole (temporary, then renamed). A file whose plan (its rows, the images'
/// written bytes, its columns and the script) is unchanged since it was written is kept as it is.
struct ParquetBridge {
    /// The interpreter (a venv's `bin/python` with pyarrow 22).
    let python: String
    /// `trainer/parquet_write.py`.
    let script: URL
    /// The release folder.
    let folder: URL
    /// Where the rows files go for the run (removed by the caller).
    let staging: URL

    /// Writes the files whose plan changed; returns how many were written and how many kept.
    func write(_ files: [PublishFile], imageHashes: [String: String]) throws -> (written: Int, kept: Int) {
        let fm = FileManager.default
        let scriptHash = (try? Data(contentsOf: script)).map(ContentHash.sha256Hex) ?? "missing"
        let markers = folder.appendingPathComponent(".progress")
        var pending: [(file: PublishFile, rows: URL, marker: URL, plan: String)] = []
        var kept = 0
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        for (i, file) in files.enumerated() {
            let rows = try file.rowsJSONL()
            let columns = try JSONSerialization.data(withJSONObject: file.columns.map(\.json), options: [.sortedKeys])
            let images = file.rows.compactMap { $0.object["image_sha256"] as? String }.map { imageHashes[$0] ?? $0 }
            let plan = ContentHash.sha256Hex([ContentHash.sha256Hex(rows), ContentHash.sha256Hex(columns), scriptHash,
                                              images.joined(separator: ",")].joined(separator: "|"))
            let marker = markers.appendingPathComponent(file.path.replacingOccurrences(of: "/", with: "__") + ".plan")
            let target = folder.appendingPathComponent(file.path)
            if fm.fileExists(atPath: target.path), (try? String(contentsOf: marker, encoding: .utf8)) == plan {
                kept += 1
                continue
            }
            let rowsURL = staging.appendingPathComponent("rows-\(i).jsonl")
            try AtomicFile.write(rows, to: rowsURL)
            pending.append((file, rowsURL, marker, plan))
        }
        guard !pending.isEmpty else { return (0, kept) }
        let spec = pending.map { item -> [String: Any] in
            ["out": folder.appendingPathComponent(item.file.path).path, "rows": item.rows.path, "columns": item.file.columns.map(\.json)]
        }
        let specURL = staging.appendingPathComponent("spec.json")
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys, .withoutEscapingSlashes]), to: specURL)
        try run(spec: specURL)
        try fm.createDirectory(at: markers, withIntermediateDirectories: true)
        for item in pending { try AtomicFile.write(Data(item.plan.utf8), to: item.marker) }
        return (pending.count, kept)
    }

    private func run(spec: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path, "--spec", spec.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw PublishError(.parquet, item: python, "cannot start it (\(error.localizedDescription)); pass --python PATH or run `dsbuild train --setup`")
        }
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus != 0 else { return }
        let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n").map(String.init)
        let last = lines.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? ""
        if process.terminationStatus == 127 {
            throw PublishError(.parquet, item: python, "not found; pass --python PATH or run `dsbuild train --setup`")
        }
        if last.contains("ModuleNotFoundError") {
            throw PublishError(.parquet, item: python, "\(last); its environment lacks pyarrow: run `dsbuild train --setup` (trainer/requirements.txt pins pyarrow)")
        }
        throw PublishError(.parquet, item: script.lastPathComponent, last.isEmpty ? "exited with status \(process.terminationStatus)" : last)
    }
}
