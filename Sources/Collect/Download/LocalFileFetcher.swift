import Dataset
import Foundation
import HTTP

/// "Downloads" a local file (the directory source): copies it to a temporary file in chunks while hashing it,
/// so that it goes through the same checks and store as a downloaded image.
public struct LocalFileFetcher: ImageFetching {
    public init() {}

    public func fetch(_ item: PendingDownload, into directory: URL) async throws -> FetchResult {
        guard let source = URL(string: item.url), source.isFileURL else {
            return .failed(DownloadFailure(reason: "invalid_url", detail: "not a file URL: \(item.url)"))
        }
        let started = Date()
        let temporary = TemporaryPart.url(in: directory, prefix: "local")
        do {
            let input = try FileHandle(forReadingFrom: source)
            defer { try? input.close() }
            // The same hashing writer the HTTP downloads stream through.
            let sink = try HashingBodySink(writingTo: temporary)
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try Task.checkCancellation()
                if case .abort(let reason) = chunk.withUnsafeBytes({ sink.receive($0) }) {
                    if let storage = StorageError.from(abortReason: reason) { throw storage }
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: reason])
                }
            }
            let (sha, bytes) = try sink.finish()
            let attempt = AttemptRecord(number: 1, url: item.url, httpStatus: nil, error: nil, waitSeconds: nil,
                                        startedAt: started.timeIntervalSince1970, duration: Date().timeIntervalSince(started))
            return FetchResult(.success(FetchedFile(file: temporary, sha256: sha, bytes: bytes, finalURL: item.url, httpStatus: nil)),
                               attempts: [attempt])
        } catch is CancellationError {
            try? FileManager.default.removeItem(at: temporary)
            throw CancellationError()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            // A full disk or an I/O error is no verdict on the file: transient (the next run copies it again).
            let failure = StorageError.from(error, path: error is StorageError ? temporary.path : source.path)
                .map { DownloadFailure.storage($0, url: item.url) }
                ?? DownloadFailure(reason: "unreadable_file", detail: "\(source.path): \(error.localizedDescription)")
            let attempt = AttemptRecord(number: 1, url: item.url, httpStatus: nil, error: failure.reason, waitSeconds: nil,
                                        startedAt: started.timeIntervalSince1970, duration: Date().timeIntervalSince(started))
            return FetchResult(.failure(failure), attempts: [attempt])
        }
    }
}
