import Crypto
import Foundation

/// "Downloads" a local file (the directory source): copies it to a temporary file in chunks while hashing it,
/// so that it goes through the same checks and store as a downloaded image.
public struct LocalFileFetcher: ImageFetching {
    public init() {}

    public func fetch(_ item: PendingDownload, into directory: URL) async throws -> FetchResult {
        guard let source = URL(string: item.url), source.isFileURL else {
            return .failed(DownloadFailure(reason: "invalid_url", detail: "not a file URL: \(item.url)"))
        }
        let started = Date()
        let temporary = directory.appendingPathComponent("local-\(UUID().uuidString).part")
        do {
            let input = try FileHandle(forReadingFrom: source)
            defer { try? input.close() }
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
            }
            let output = try FileHandle(forWritingTo: temporary)
            var hasher = SHA256()
            var bytes = 0
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try Task.checkCancellation()
                hasher.update(data: chunk)
                try output.write(contentsOf: chunk)
                bytes += chunk.count
            }
            try output.close()
            let sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            let attempt = AttemptRecord(number: 1, url: item.url, httpStatus: nil, error: nil, waitSeconds: nil,
                                        startedAt: started.timeIntervalSince1970, duration: Date().timeIntervalSince(started))
            return FetchResult(.success(FetchedFile(file: temporary, sha256: sha, bytes: bytes, finalURL: item.url, httpStatus: nil)),
                               attempts: [attempt])
        } catch is CancellationError {
            try? FileManager.default.removeItem(at: temporary)
            throw CancellationError()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            let failure = DownloadFailure(reason: "unreadable_file", detail: "\(source.path): \(error.localizedDescription)")
            let attempt = AttemptRecord(number: 1, url: item.url, httpStatus: nil, error: failure.reason, waitSeconds: nil,
                                        startedAt: started.timeIntervalSince1970, duration: Date().timeIntervalSince(started))
            return FetchResult(.failure(failure), attempts: [attempt])
        }
    }
}
