import Crypto
import Dataset
import Foundation

/// A body sink that hashes the body with SHA-256 while it streams and, optionally, appends it to a file, so a
/// downloader never holds an image in memory. An optional `onHead` check can refuse the response before any
/// body byte (e.g. on `X-Robots-Tag: noai` or a non-image `Content-Type`).
///
/// The file is written with `write(2)` so a failure keeps its errno: a full disk, a used-up quota or an I/O error
/// aborts the transfer with `StorageError.abortReason` (and `finish()` throws the `StorageError`), which the
/// downloader records as transient.
///
/// `@unchecked Sendable`: the engine calls `receiveHead`/`receive` on its one thread during the transfer, and
/// `finish()` is called after `perform` returned (the continuation orders the two), so the mutable state is
/// never touched from two threads at once. Do not share one sink between concurrent transfers.
public final class HashingBodySink: HTTPBodySink, @unchecked Sendable {
    private var hasher = SHA256()
    private var bytes = 0
    private var fd: Int32 = -1
    private let fileURL: URL?
    private let onHead: (@Sendable (HTTPResponseHead) -> HTTPSinkDecision)?
    /// The first write failure, reported again by `finish()`.
    private var failure: (any Error)?

    /// - Parameter fileURL: created (or truncated) now, written as chunks arrive, closed by `finish()`.
    public init(writingTo fileURL: URL? = nil, onHead: (@Sendable (HTTPResponseHead) -> HTTPSinkDecision)? = nil) throws {
        if let fileURL {
            fd = open(fileURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let code = errno
                if StorageError.codes.contains(code) { throw StorageError(code: code, path: fileURL.path) }
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: fileURL.path,
                                                               NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(code))])
            }
        }
        self.fileURL = fileURL
        self.onHead = onHead
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    public func receiveHead(_ head: HTTPResponseHead) -> HTTPSinkDecision {
        onHead?(head) ?? .proceed
    }

    public func receive(_ chunk: UnsafeRawBufferPointer) -> HTTPSinkDecision {
        hasher.update(bufferPointer: chunk)
        bytes += chunk.count
        guard fd >= 0, let base = chunk.baseAddress else { return .proceed }
        var offset = 0
        while offset < chunk.count {
            let n = write(fd, base + offset, chunk.count - offset)
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                return .abort(fail(code))
            }
            offset += n
        }
        return .proceed
    }

    private func fail(_ code: Int32) -> String {
        let path = fileURL?.path ?? "file"
        if StorageError.codes.contains(code) {
            let error = StorageError(code: code, path: path)
            failure = error
            return error.abortReason
        }
        failure = CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path,
                                                           NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(code))])
        return "writing \(path): \(String(cString: strerror(code)))"
    }

    /// Bytes received so far.
    public var byteCount: Int { bytes }

    /// Closes the file and returns the lower-case hex SHA-256 of every byte received and their count. Throws the
    /// write failure, if a write failed (a `StorageError` for a full disk or an I/O error).
    public func finish() throws -> (sha256: String, bytes: Int) {
        if fd >= 0 {
            let result = close(fd)
            let code = errno
            fd = -1
            if result != 0, failure == nil { _ = fail(code) }
        }
        if let failure { throw failure }
        let digest = hasher.finalize()
        return (ContentHash.hex(digest), bytes)
    }
}
