import Dataset
import Foundation

/// Where the bundled trainer (`train.py`, `eval_mcq.py`, `setup.sh`) is, and how its environment is made.
public enum TrainerLocation {
    /// `explicit` (a `--trainer DIR`), else `DSBUILD_TRAINER_DIR`, else a `trainer/train.py` in a folder above the
    /// executable (a build or an install beside the repository) or in the current directory.
    public static func find(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            executable: String = CommandLine.arguments[0]) throws(TrainError) -> URL {
        if let explicit { return URL(fileURLWithPath: explicit).standardizedFileURL }
        if let found = BundledTrainer.folder(environment: environment, executable: executable) { return found }
        throw TrainError(.launch, "cannot find the bundled trainer (trainer/train.py); pass --trainer DIR or set DSBUILD_TRAINER_DIR")
    }

    /// The Python of the trainer's own environment (`trainer/.venv`) when it exists, else `python3` on PATH.
    public static func defaultPython(in trainer: URL) -> String { BundledTrainer.python(in: trainer) }

    /// Creates the trainer's virtual environment with its `setup.sh` (progress on stderr); returns its Python.
    public static func setUp(_ trainer: URL) throws(TrainError) -> String {
        let venv = trainer.appendingPathComponent(".venv")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", trainer.appendingPathComponent("setup.sh").path, venv.path]
        process.standardOutput = FileHandle.standardError
        do { try process.run() } catch {
            throw TrainError(.launch, "cannot run \(trainer.path)/setup.sh: \(error.localizedDescription)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TrainError(.launch, "trainer/setup.sh failed with status \(process.terminationStatus)")
        }
        return venv.appendingPathComponent("bin/python").path
    }
}
