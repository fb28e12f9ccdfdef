import Foundation
import GRDB

/// A dsbuild workspace: a directory holding the manifest (`dsbuild.sqlite`), the content-addressed image
/// store (`images/ab/<sha256>.<ext>`) and the stored recipe (`recipe.yaml`).
public final class Workspace: Sendable {
    public static let manifestFileName = "dsbuild.sqlite"
    public static let recipeFileName = "recipe.yaml"

    public let root: URL
    public let manifest: Manifest

    private init(root: URL, manifest: Manifest) {
        self.root = root
        self.manifest = manifest
    }

    /// Creates the workspace at `directory` (the directory may exist); opening an existing workspace is fine.
    public static func create(at directory: URL) throws(WorkspaceError) -> Workspace {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory.appendingPathComponent("images"), withIntermediateDirectories: true)
        } catch {
            throw WorkspaceError(.cannotWrite, path: directory.path, detail: "\(error.localizedDescription)")
        }
        let manifest = try Manifest(path: directory.appendingPathComponent(manifestFileName), create: true)
        do {
            try manifest.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO workspace_info(key, value) VALUES ('created_at', ?), ('created_by', ?)",
                               arguments: [ISO8601DateFormatter().string(from: Date()), "dsbuild \(DSBuildVersion.string)"])
            }
        } catch {
            throw WorkspaceError(.cannotWrite, path: directory.path, detail: "\(error)")
        }
        return Workspace(root: directory.standardizedFileURL, manifest: manifest)
    }

    /// Opens an existing workspace; a directory without a manifest is a `notAWorkspace` error.
    public static func open(at directory: URL) throws(WorkspaceError) -> Workspace {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw WorkspaceError(.notAWorkspace, path: directory.path, detail: "no such directory")
        }
        let manifest = try Manifest(path: directory.appendingPathComponent(manifestFileName), create: false)
        return Workspace(root: directory.standardizedFileURL, manifest: manifest)
    }

    /// Where the workspace is when no `--workspace` was given: `DSBUILD_WORKSPACE`, else the current directory.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let dir = environment["DSBUILD_WORKSPACE"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    // MARK: Image store

    /// The path of an image relative to the workspace root: `images/ab/<sha256>.<ext>`.
    public static func relativeImagePath(sha256: String, fileExtension: String) -> String {
        "images/\(sha256.prefix(2))/\(sha256).\(fileExtension)"
    }

    public func imageURL(relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// A directory for temporary files on the same file system as the store, so a rename is atomic.
    public var temporaryDirectory: URL {
        root.appendingPathComponent("images/.tmp")
    }

    /// Moves a finished temporary file into the store under its content address. If the store already holds the
    /// image the temporary file is removed and the existing path returned: an image is never written twice.
    public func storeImage(temporaryFile: URL, sha256: String, fileExtension: String) throws -> String {
        let relative = Self.relativeImagePath(sha256: sha256, fileExtension: fileExtension)
        let destination = imageURL(relativePath: relative)
        let fm = FileManager.default
        if fm.fileExists(atPath: destination.path) {
            try? fm.removeItem(at: temporaryFile)
            return relative
        }
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(temporaryFile.path, destination.path) != 0 {
            let code = errno
            if fm.fileExists(atPath: destination.path) {
                try? fm.removeItem(at: temporaryFile)
                return relative
            }
            if StorageError.codes.contains(code) { throw StorageError(code: code, path: destination.path) }
            throw WorkspaceError(.cannotWrite, path: destination.path, detail: String(cString: strerror(code)))
        }
        return relative
    }

    // MARK: Recipe

    public var recipeURL: URL { root.appendingPathComponent(Self.recipeFileName) }

    /// Stores a copy of the recipe so later commands use it: the text, and the folder it came from (`directory`), which its relative input paths
    /// resolve against from then on.
    public func storeRecipe(text: String, directory: URL? = nil) throws(WorkspaceError) {
        do {
            try text.write(to: recipeURL, atomically: true, encoding: .utf8)
        } catch {
            throw WorkspaceError(.cannotWrite, path: recipeURL.path, detail: error.localizedDescription)
        }
        guard let directory else { return }
        do {
            try manifest.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO workspace_info(key, value) VALUES ('recipe_directory', ?)",
                               arguments: [directory.standardizedFileURL.path])
            }
        } catch {
            throw WorkspaceError(.cannotWrite, path: root.appendingPathComponent(Self.manifestFileName).path, detail: "\(error)")
        }
    }

    /// The folder the stored recipe came from; nil for a recipe stored before it was recorded.
    public func storedRecipeDirectory() -> URL? {
        let path = try? manifest.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM workspace_info WHERE key = 'recipe_directory'")
        }
        return (path ?? nil).map { URL(fileURLWithPath: $0) }
    }

    /// The stored recipe, validated against `schema`, its relative paths resolving against the folder it came
    /// from (else the workspace); `.empty` when none is stored.
    public func storedRecipe(schema: RecipeSchema) throws(RecipeError) -> Recipe {
        guard FileManager.default.fileExists(atPath: recipeURL.path) else { return .empty }
        var recipe = try Recipe.load(contentsOf: recipeURL, schema: schema)
        recipe.directory = storedRecipeDirectory() ?? root
        return recipe
    }

    /// The stored recipe's text, if any.
    public func storedRecipeText() -> String? {
        try? String(contentsOf: recipeURL, encoding: .utf8)
    }
}
