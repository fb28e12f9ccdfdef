import Foundation

/// Every regular file under a folder (progress markers excluded), by path relative to it: what a test compares
/// to prove that a rerun changed no byte of a command's output.
public enum RunFiles {
    public static func all(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let base = dir.standardizedFileURL.path
        guard let e = FileManager.default.enumerator(atPath: base) else { return [:] }
        for case let rel as String in e where !rel.hasPrefix(".progress") {
            var isDir: ObjCBool = false
            let path = base + "/" + rel
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        }
        return out
    }
}
