import Crypto
import Foundation

/// A body sink that hashes the body with SHA-256 while it streams and, optionally, appends it to a file, so a
/// downloader never holds an image in memory. An optional `onHead` check can refuse the response before any
/// body byte (e.g. on `X-Robots-Tag: noai` or a non-image `Content-Type`).
///
/// `@unchecked Sendable`: the engine calls `receiveHead`/`receive` on its one thread during the transfer, and
/// `finish()` is called after `perform` returned (the continuation orders the two), so the mutable state is
/// never touched from two threads at once. Do not share one sink between concurrent transfers.
public final class HashingBodySink: HTTPBodySink, @unchecked Sendable {
    private var hasher = SHA256()
    private var bytes = 0
    private var file: FileHandle?
    private let fileURL: URL?
    private let onHead: (@Sendable (HTTPResponseHead) -> HTTPSinkDecision)?

    /// - Parameter fileURL: created (or truncated) now, written as chunks arrive, closed by `finish()`.
    public init(writingTo fileURL: URL? = nil, onHead: (@Sendable (HTTPResponseHead) -> HTTPSinkDecision)? = nil) throws {
        if let fileURL {
            guard FileManager.default.createFile(atPath: fileURL.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: fileURL.path])
            }
            file = try FileHandle(forWritingTo: fileURL)
        }
        self.fileURL = fileURL
        self.onHead = onHead
    }

    public func receiveHead(_ head: HTTPResponseHead) -> HTTPSinkDecision {
        onHead?(head) ?? .proceed
    }

    public func receive(_ chunk: UnsafeRawBufferPointer) -> HTTPSinkDecision {
        hasher.update(bufferPointer: chunk)
        bytes += chunk.count
        guard let file else { return .proceed }
        do {
            try file.write(contentsOf: Data(chunk))
            return .proceed
        } catch {
            return .abort("writing \(fileURL?.path ?? "file"): \(error)")
        }
    }

    /// Bytes received so far.
    public var byteCount: Int { bytes }

    /// Closes the file and returns the lower-case hex SHA-256 of every byte received and their count.
    public func finish() throws -> (sha256: String, bytes: Int) {
        if let file {
            self.file = nil
            try file.close()
        }
        let digest = hasher.finalize()
        return (digest.map { String(format: "%02x", $0) }.joined(), bytes)
    }
}
