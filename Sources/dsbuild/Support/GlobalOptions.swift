import ArgumentParser
import Dataset
import Foundation
import Logging

/// The flags every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The workspace directory (default: $DSBUILD_WORKSPACE or the current directory).")
    var workspace: String?

    @Flag(name: .long, help: "Print a machine-readable JSON summary on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "More log output on stderr.")
    var verbose = false

    var workspaceURL: URL {
        if let workspace { return URL(fileURLWithPath: workspace) }
        return Workspace.defaultDirectory()
    }

    func makeLogger(_ label: String) -> Logger {
        LoggingBootstrap.once(verbose: verbose)
        var logger = Logger(label: "dsbuild.\(label)")
        logger.logLevel = verbose ? .debug : (quiet ? .error : .warning)
        return logger
    }

    func makeProgress() -> ProgressReporter {
        ProgressReporter.automatic(quiet: quiet || json)
    }
}

/// Bootstraps swift-log (every handler redacting secrets) and registers the secrets of the environment with
/// `SecretRedactor`, once per process.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false
    private static let lock = NSLock()

    static func once(verbose: Bool) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        SecretRedactor.register(variables: SecretRedactor.defaultVariables, in: ProcessInfo.processInfo.environment)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return RedactingLogHandler(wrapping: handler)
        }
    }
}
