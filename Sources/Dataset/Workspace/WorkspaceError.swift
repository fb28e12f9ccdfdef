/// Why a workspace could not be created or opened.
public struct WorkspaceError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The directory has no `dsbuild.sqlite`.
        case notAWorkspace
        /// The manifest was written by a newer dsbuild.
        case schemaTooNew
        /// SQLite could not open or migrate the file.
        case cannotOpen
        /// `init` found an existing workspace where it was asked to create one with different contents.
        case alreadyExists
        /// A file the workspace needs could not be written.
        case cannotWrite
        /// Another process holds the workspace lock (`detail` names it).
        case inUse
    }

    public let code: Code
    public let path: String
    public let detail: String

    public init(_ code: Code, path: String, detail: String = "") {
        self.code = code
        self.path = path
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .notAWorkspace:
            return "\(path) is not a dsbuild workspace (\(detail)); create one with `dsbuild init \(path)` or pass --workspace"
        case .schemaTooNew:
            return "\(path) was written by a newer dsbuild (\(detail)); upgrade dsbuild to open it"
        case .cannotOpen:
            return "cannot open the manifest \(path): \(detail)"
        case .alreadyExists:
            return "\(path): \(detail)"
        case .cannotWrite:
            return "cannot write \(path): \(detail)"
        case .inUse:
            return "workspace \(path) is in use by \(detail); wait for it to finish or stop it, then run this again"
        }
    }
}
