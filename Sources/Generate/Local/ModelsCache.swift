import Dataset
import Foundation

/// The folder outside any workspace where `dsbuild models install` puts models and the llama.cpp server:
/// `$DSBUILD_MODELS_DIR`, else `$XDG_CACHE_HOME/dsbuild/models`, else `~/.cache/dsbuild/models`. Holds `venv/`
/// (the registry packages, pinned) and one folder per model with its GGUF and `model.json`.
public struct ModelsCache: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// The cache the environment names.
    public static func from(environment: [String: String]) -> ModelsCache {
        if let dir = environment["DSBUILD_MODELS_DIR"], !dir.isEmpty { return ModelsCache(directory: URL(fileURLWithPath: dir)) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return ModelsCache(directory: URL(fileURLWithPath: xdg).appendingPathComponent("dsbuild/models"))
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return ModelsCache(directory: URL(fileURLWithPath: home).appendingPathComponent(".cache/dsbuild/models"))
    }

    /// The venv holding the registry packages.
    public var venv: URL { directory.appendingPathComponent("venv") }

    public func folder(of model: KnownModel) -> URL { directory.appendingPathComponent(model.name) }

    /// What an installed model's folder records (`model.json`).
    public struct Installed: Sendable, Equatable, Codable {
        public var name: String
        public var file: String
        public var mmproj: String?
        public var capabilities: [String]
        public var packages: [String]
        public var bytes: Int64
        /// The GGUF's sha256 when it was installed (absent in records of older installs).
        public var sha256: String? = nil
        public var installedAt: String

        enum CodingKeys: String, CodingKey {
            case name, file, mmproj, capabilities, packages, bytes, sha256
            case installedAt = "installed_at"
        }
    }

    /// What is wrong with an installed model's file, nil when it is intact: missing, not the size `model.json`
    /// records (a cut download, a truncated copy) or, with `verifyingContent`, not its recorded sha256 (reads the file).
    public func damage(of model: Installed, verifyingContent: Bool = false) -> String? {
        let url = URL(fileURLWithPath: model.file)
        guard let size = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value else {
            return "\(model.file) is missing"
        }
        if size != model.bytes { return "\(model.file) has \(size) bytes, \(model.bytes) installed" }
        if verifyingContent, let sha256 = model.sha256, (try? ContentHash.sha256Hex(fileAt: url)) != sha256 {
            return "\(model.file) is not the file installed (sha256 differs)"
        }
        return nil
    }

    /// A file error at `path` as words a user can act on: Foundation's print as `NSCocoaErrorDomain error 512`, often
    /// with no cause attached, so the path is looked at — an ancestor that is a file, a folder that cannot be written.
    static func reason(_ error: any Error, at path: URL) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        var ancestor = path.deletingLastPathComponent()
        while ancestor.path != "/" {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder) {
                if !isFolder.boolValue { return "Not a directory: \(ancestor.path) is a file" }
                if !FileManager.default.isWritableFile(atPath: ancestor.path) { return "Permission denied: \(ancestor.path) cannot be written" }
                break
            }
            ancestor = ancestor.deletingLastPathComponent()
        }
        if let free = (try? FileManager.default.attributesOfFileSystem(forPath: ancestor.path))?[.systemFreeSize] as? NSNumber, free.int64Value < 1 << 20 {
            return "No space left on the device holding \(ancestor.path)"
        }
        return "it could not be written (\(nsError.domain) \(nsError.code))"
    }

    /// The installed models whose files are present, by name.
    public func installed() -> [Installed] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        return names.compactMap { name in
            let record = directory.appendingPathComponent("\(name)/model.json")
            guard let data = try? Data(contentsOf: record),
                  let installed = try? JSONDecoder().decode(Installed.self, from: data),
                  FileManager.default.fileExists(atPath: installed.file) else { return nil }
            return installed
        }
    }

    /// The model folders whose `model.json` is there but cannot be read (`NAME: why`): `models list` names them
    /// instead of showing none.
    public func corrupt() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        return names.compactMap { name in
            let record = directory.appendingPathComponent("\(name)/model.json")
            guard let data = try? Data(contentsOf: record) else { return nil }
            do {
                _ = try JSONDecoder().decode(Installed.self, from: data)
                return nil
            } catch {
                return "\(Self.printable(name)): \(record.path) is corrupt (not a model record)"
            }
        }
    }

    /// `text` without control characters (a name or path from the cache may hold terminal escape codes).
    public static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }))
    }

    /// `llm.local.model`'s value as a file: a path (`…/x.gguf`, relative to `base`) as it is, a known model's name as
    /// its file in this cache. A name that is not installed is an error naming the command that installs it.
    public func resolveModel(_ value: String, relativeTo base: URL) throws(LocalServerError) -> URL {
        if let known = KnownModel.named(value) {
            if let installed = installed().first(where: { $0.name == known.name }) {
                if let damage = damage(of: installed) {
                    throw LocalServerError(.modelNotFound, "model \(value) is damaged (\(damage)): run `dsbuild models install \(value)` to repair it")
                }
                return URL(fileURLWithPath: installed.file)
            }
            throw LocalServerError(.modelNotFound, "model \(value) is not installed in \(directory.path): run `dsbuild models install \(value)`")
        }
        let url = Self.path(value, relativeTo: base)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let names = KnownModel.all.map(\.name).joined(separator: ", ")
            throw LocalServerError(.modelNotFound, "local model file \(url.path) does not exist: give a .gguf file or an installed model (\(names); `dsbuild models install`)")
        }
        // A FIFO or a device would block the first open (the fingerprint, the header) for good; a folder is no model.
        var status = stat()
        guard stat(url.path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw LocalServerError(.modelNotFound, "local model \(url.path) is not a regular file: give a .gguf file")
        }
        return url
    }

    /// `path` as a file URL: as it is when absolute (`~` expanded), else under the folder `base`.
    static func path(_ path: String, relativeTo base: URL) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        return (expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : base.appendingPathComponent(expanded)).standardizedFileURL
    }
}
