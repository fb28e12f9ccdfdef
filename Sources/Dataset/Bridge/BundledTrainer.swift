import Foundation

/// Where the bundled trainer folder (`trainer/`: `train.py`, its Python scripts, `setup.sh`) is and which Python
/// runs its scripts. Train's `TrainerLocation` and the other modules' bridges (the parquet of `shards`, a parquet URL
/// list in `collect`) find it here.
public enum BundledTrainer {
    /// `DSBUILD_TRAINER_DIR`, else a `trainer/train.py` in a folder above the executable (a build or an install beside
    /// the repository) or in the current directory; nil when there is none.
    public static func folder(environment: [String: String] = ProcessInfo.processInfo.environment,
                              executable: String = CommandLine.arguments[0]) -> URL? {
        if let env = environment["DSBUILD_TRAINER_DIR"], !env.isEmpty { return URL(fileURLWithPath: env) }
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 { candidates.append(dir.appendingPathComponent("trainer")); dir.deleteLastPathComponent() }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("trainer"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("train.py").path) }
    }

    /// The Python of the trainer's own environment (`trainer/.venv`) when it exists, else `python3` on PATH.
    public static func python(in trainer: URL) -> String {
        let venvPython = trainer.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venvPython) ? venvPython : "python3"
    }
}
