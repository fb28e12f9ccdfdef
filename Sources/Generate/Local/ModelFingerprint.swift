import Dataset
import Foundation

/// What makes one GGUF file a different model from another with the same name: a sha256 over its size and three
/// 1 MiB windows of its content (start — the header and metadata —, middle, end — tensor data). Read in
/// milliseconds for a model of any size, the same for a copy of the file wherever it lies, different for another
/// model or quantisation that happens to share the file name. It is part of the served name (`LocalServerConfiguration.alias`),
/// so requests (and the cache keys hashed from them) and the records' `model` column tell such files apart.
public enum ModelFingerprint {
    static let window = 1 << 20

    /// The fingerprint as hex, nil when the file cannot be read.
    public static func of(_ file: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return nil }
        var data = Data("\(size)\n".utf8)
        for offset in Set([0, size / 2 > UInt64(window) ? size / 2 : 0, size > UInt64(window) ? size - UInt64(window) : 0]).sorted() {
            guard (try? handle.seek(toOffset: offset)) != nil, let chunk = try? handle.read(upToCount: window) else { return nil }
            data.append(chunk)
        }
        return ContentHash.sha256Hex(data)
    }
}
