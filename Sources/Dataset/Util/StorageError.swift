import Foundation
import GRDB

/// A local read or write failed for a cause outside the item: the disk is full (`ENOSPC`), the quota is used
/// up (`EDQUOT`) or the device reported an I/O error (`EIO`). Such a failure is transient — recorded as
/// retryable, never as a decision about the item — and its message names the path and the free space left.
public struct StorageError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The errno values that make a storage failure.
    public static let codes: Set<Int32> = [ENOSPC, EDQUOT, EIO]

    public let code: Int32
    public let path: String
    /// Bytes available to this user on the file system holding `path`, when `statvfs` could tell.
    public let freeBytes: Int64?

    public init(code: Int32, path: String) {
        self.code = code
        self.path = path
        freeBytes = Self.freeBytes(near: path)
    }

    /// The stable key recorded in `downloads.reason`.
    public var reason: String {
        switch code {
        case ENOSPC: return "disk_full"
        case EDQUOT: return "quota_exceeded"
        default: return "io_error"
        }
    }

    public var description: String {
        let what: String
        switch code {
        case ENOSPC: what = "no space left on the device"
        case EDQUOT: what = "the disk quota is used up"
        default: what = "an I/O error (\(String(cString: strerror(code))))"
        }
        let free = freeBytes.map { ", \(Self.format(bytes: $0)) free" } ?? ""
        return "\(what) writing \(path)\(free); free some space and run the command again (nothing is lost)"
    }

    // MARK: Recognising one

    /// The storage failure behind `error`, if it is one: a POSIX/Cocoa error with one of `codes`, or a SQLite
    /// full/I-O error (then `path` is the database file).
    public static func from(_ error: any Error, path: String) -> StorageError? {
        if let storage = error as? StorageError { return storage }
        if let database = error as? DatabaseError {
            switch database.resultCode {
            case .SQLITE_FULL: return StorageError(code: ENOSPC, path: path)
            case .SQLITE_IOERR: return StorageError(code: EIO, path: path)
            default: return nil
            }
        }
        guard let code = errno(of: error as NSError), codes.contains(code) else { return nil }
        return StorageError(code: code, path: path)
    }

    private static func errno(of error: NSError) -> Int32? {
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        if error.domain == NSCocoaErrorDomain {
            if error.code == CocoaError.fileWriteOutOfSpace.rawValue { return ENOSPC }
            if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError { return errno(of: underlying) }
        }
        return nil
    }

    // MARK: Through a body sink's abort reason

    private static let abortPrefix = "storage-error "

    /// The reason a body sink aborts a transfer with, so the downloader can tell a storage failure from others.
    public var abortReason: String { "\(Self.abortPrefix)\(code) \(path)" }

    /// The storage failure an abort reason carries, if any.
    public static func from(abortReason reason: String) -> StorageError? {
        guard reason.hasPrefix(abortPrefix) else { return nil }
        let rest = reason.dropFirst(abortPrefix.count)
        guard let space = rest.firstIndex(of: " "), let code = Int32(rest[..<space]) else { return nil }
        return StorageError(code: code, path: String(rest[rest.index(after: space)...]))
    }

    // MARK: Free space

    /// `statvfs` of `path` or its nearest existing ancestor.
    public static func freeBytes(near path: String) -> Int64? {
        var current = path
        while !current.isEmpty {
            var info = statvfs()
            if statvfs(current, &info) == 0 { return Int64(info.f_bavail) * Int64(info.f_frsize) }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current { break }
            current = parent
        }
        return nil
    }

    static func format(bytes: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}
