import Dataset
import Foundation
import GRDB
import Imaging

/// The second half of collect: every candidate without a finished download is fetched, checked to be an image
/// by its magic bytes, hashed, moved into the content-addressed store, probed, and recorded (`images` +
/// `downloads` + every attempt) in one transaction.
///
/// Resume: pending work is recomputed from the manifest. A candidate with an `ok` download, or a failure that is
/// not worth another try (404, not an image, robots…), is done. A transient failure (429, 5xx, timeout,
/// connection reset…) is stored with `retryable = 1` and is pending again on the next run. A file is moved into
/// the store before its row is written, so a killed run leaves at most an unreferenced file that the next run's
/// download of the same bytes finds in place; a temporary file is never taken for an image.
public struct DownloadStage: PagedStage {
    public enum Outcome: Sendable {
        case stored(sha256: String, path: String, bytes: Int, probe: ProbedImage, finalURL: String, httpStatus: Int?,
                    attempts: [AttemptRecord], newImage: Bool)
        /// Another candidate with the same URL already has the image.
        case reused(sha256: String)
        case failed(DownloadFailure, attempts: [AttemptRecord])
    }

    public let name = "download"
    public let workspace: Workspace
    public let http: (any ImageFetching)?
    public let local: any ImageFetching

    public init(workspace: Workspace, http: (any ImageFetching)?,
                local: any ImageFetching = LocalFileFetcher()) {
        self.workspace = workspace
        self.http = http
        self.local = local
    }

    /// Removes temporary files a killed run left behind (they were never taken for images). Run before a download
    /// run starts. A part file is named for the process writing it (`TemporaryPart`), so only those of processes
    /// that are gone are removed: never another live process's file in flight.
    public func removeStaleTemporaryFiles() {
        let directory = workspace.temporaryDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where TemporaryPart.isStale(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Candidates read at a time: pending downloads come a page at a time, keyed by candidate id, so a URL list of
    /// a million rows is never held as a million pending items.
    static let pageSize = 1000
    /// A candidate is pending until it has a download that is not a retryable failure.
    static let pendingSQL = """
        FROM candidates c LEFT JOIN downloads d ON d.candidate_id = c.id
        WHERE (d.candidate_id IS NULL OR (d.status = 'failed' AND d.retryable = 1))
        """

    public func pendingCount(in manifest: Manifest) async throws -> Int {
        try await manifest.asyncRead { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) \(Self.pendingSQL)") ?? 0 }
    }

    public func pendingPage(in manifest: Manifest, after cursor: Int64?) async throws -> PendingPage<PendingDownload, Int64> {
        let items = try await manifest.asyncRead { db in
            try Row.fetchAll(db, sql: "SELECT c.id, c.image_url, c.source \(Self.pendingSQL) AND c.id > ? ORDER BY c.id LIMIT ?",
                             arguments: [cursor ?? 0, Self.pageSize])
                .map { PendingDownload(candidateID: $0["id"], url: $0["image_url"], source: $0["source"]) }
        }
        return PendingPage(items: items, next: items.count == Self.pageSize ? items.last?.candidateID : nil)
    }

    public func work(on item: PendingDownload) async throws -> Outcome {
        let url = item.url
        if let sha = try await workspace.manifest.asyncRead({ db in
            try String.fetchOne(db, sql: """
                SELECT d.image_sha256 FROM downloads d JOIN candidates c ON c.id = d.candidate_id
                WHERE c.image_url = ? AND d.status = 'ok' AND d.image_sha256 IS NOT NULL LIMIT 1
                """, arguments: [url])
        }) {
            return .reused(sha256: sha)
        }
        let fetcher: any ImageFetching
        if url.lowercased().hasPrefix("file:") {
            guard item.source == "directory" else {
                return .failed(DownloadFailure(reason: "disallowed_scheme", detail: "only http and https are fetched, not file: \(url)"), attempts: [])
            }
            fetcher = local
        } else if let http {
            fetcher = http
        } else {
            return .failed(DownloadFailure(reason: "no_http", detail: "HTTP downloads are disabled in this run: \(url)"), attempts: [])
        }
        let directory = workspace.temporaryDirectory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            guard let storage = StorageError.from(error, path: directory.path) else { throw error }
            return .failed(.storage(storage, url: url), attempts: [])
        }
        let fetched = try await fetcher.fetch(item, into: directory)
        switch fetched.result {
        case .failure(let failure):
            return .failed(failure, attempts: fetched.attempts)
        case .success(let file):
            return accept(file, url: url, attempts: fetched.attempts)
        }
    }

    /// Checks the fetched bytes, probes them and moves them into the store.
    func accept(_ file: FetchedFile, url: String, attempts: [AttemptRecord]) -> Outcome {
        let prefix = (try? FileHandle(forReadingFrom: file.file)).flatMap { handle -> Data? in
            defer { try? handle.close() }
            return try? handle.read(upToCount: 512)
        } ?? Data()
        guard ImageMagic.format(of: prefix) != nil else {
            try? FileManager.default.removeItem(at: file.file)
            return .failed(DownloadFailure(reason: "not_an_image", detail: "\(ImageMagic.describeNonImage(prefix)) from \(url)",
                                           httpStatus: file.httpStatus), attempts: attempts)
        }
        let probe: ProbedImage
        do {
            probe = try ProbedImage.probe(fileAt: file.file)
        } catch {
            try? FileManager.default.removeItem(at: file.file)
            return .failed(DownloadFailure(reason: "probe_failed", detail: "\(error) (\(url))", httpStatus: file.httpStatus),
                           attempts: attempts)
        }
        let relative = Workspace.relativeImagePath(sha256: file.sha256, fileExtension: probe.fileExtension)
        let existed = FileManager.default.fileExists(atPath: workspace.imageURL(relativePath: relative).path)
        do {
            let path = try workspace.storeImage(temporaryFile: file.file, sha256: file.sha256, fileExtension: probe.fileExtension)
            return .stored(sha256: file.sha256, path: path, bytes: file.bytes, probe: probe, finalURL: file.finalURL,
                           httpStatus: file.httpStatus, attempts: attempts, newImage: !existed)
        } catch {
            try? FileManager.default.removeItem(at: file.file)
            if let storage = StorageError.from(error, path: workspace.imageURL(relativePath: relative).path) {
                return .failed(.storage(storage, url: url), attempts: attempts)
            }
            return .failed(DownloadFailure(reason: "store_failed", detail: "\(error) (\(url))"), attempts: attempts)
        }
    }

    public func record(_ outcome: Outcome, for item: PendingDownload, in db: Database, run: StageRun) throws {
        let now = Date().timeIntervalSince1970
        func insertAttempts(_ attempts: [AttemptRecord]) throws {
            for a in attempts {
                try DownloadAttemptRow(candidateID: item.candidateID, run: run, attempt: a.number, url: a.url, httpStatus: a.httpStatus,
                                       error: a.error, waitSeconds: a.waitSeconds, startedAt: a.startedAt, duration: a.duration).insert(db)
            }
        }
        switch outcome {
        case let .stored(sha, path, bytes, probe, finalURL, status, attempts, _):
            try insertAttempts(attempts)
            try ImageRow(sha256: sha, path: path, bytes: bytes, probe: probe, createdAt: now).insertIfNew(db)
            try DownloadRow(candidateID: item.candidateID, status: "ok", imageSHA256: sha, httpStatus: status, attempts: attempts.count,
                            finalURL: finalURL, finishedAt: now).replace(db)
        case .reused(let sha):
            try DownloadRow(candidateID: item.candidateID, status: "ok", reason: "same_url", imageSHA256: sha, attempts: 0,
                            finalURL: item.url, finishedAt: now).replace(db)
        case let .failed(failure, attempts):
            try insertAttempts(attempts)
            let previous = try DownloadRow.fetchOne(db, key: item.candidateID)?.attempts ?? 0
            try DownloadRow(candidateID: item.candidateID, status: "failed", reason: failure.reason, detail: failure.detail,
                            httpStatus: failure.httpStatus, attempts: previous + attempts.count, retryable: failure.retryable,
                            finishedAt: now).replace(db)
        }
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .stored(_, _, _, _, _, _, _, let newImage): return StageOutcomeClass(key: newImage ? "ok" : "ok_duplicate")
        case .reused: return StageOutcomeClass(key: "ok_same_url")
        case .failed(let failure, _):
            return StageOutcomeClass(key: failure.reason, failed: true, message: failure.description)
        }
    }
}
