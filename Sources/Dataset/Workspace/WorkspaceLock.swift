import Foundation
import Synchronization

/// The exclusive lock a command that writes holds on a workspace: `flock` on `dsbuild.lock` beside
/// `dsbuild.sqlite`, holding the holder's pid, command and start time, so a second writer fails at once with
/// who has it. Readers (`status`, `report`, `check`) do not take it.
///
/// The kernel drops a `flock` when its process dies, so a lock left by a killed command is free again. A lock
/// file whose flock is still held but whose recorded pid is dead (a descendant inherited the descriptor) is stale:
/// it is replaced. The lock is re-entrant within one process (`dsbuild run` holds it and runs the stage commands
/// in-process) and is held until the process ends or `release()` is called.
public final class WorkspaceLock: Sendable {
    public static let fileName = "dsbuild.lock"

    /// Who holds a lock, as its file records it.
    public struct Holder: Sendable, Equatable {
        public let pid: Int32
        public let command: String
        public let started: String
    }

    public let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Locks held by this process, by lock-file path, with how many times each was taken.
    private static let held = Mutex<[String: (lock: WorkspaceLock, count: Int)]>([:])

    /// Takes the lock of the workspace at `root` for `command`, or throws `.inUse` naming the holder.
    @discardableResult
    public static func acquire(root: URL, command: String) throws(WorkspaceError) -> WorkspaceLock {
        let path = Self.lockPath(root: root)
        if let existing = held.withLock({ table -> WorkspaceLock? in
            guard var entry = table[path] else { return nil }
            entry.count += 1
            table[path] = entry
            return entry.lock
        }) {
            return existing
        }
        for _ in 0..<3 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw WorkspaceError(.cannotWrite, path: path, detail: String(cString: strerror(errno)))
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = readHolder(fd: fd)
                close(fd)
                guard code == EWOULDBLOCK else {
                    throw WorkspaceError(.cannotWrite, path: path, detail: "flock: \(String(cString: strerror(code)))")
                }
                if let holder, holder.pid > 0, !isAlive(holder.pid) {
                    unlink(path)  // stale: the recorded holder is gone; start a fresh lock file
                    continue
                }
                throw WorkspaceError(.inUse, path: root.path, detail: holder.map {
                    "pid \($0.pid) (dsbuild \($0.command), started \($0.started))"
                } ?? "another process (it is starting up)")
            }
            // The file may have been replaced (stale lock) between open and flock: lock the one at the path.
            var opened = stat(), current = stat()
            guard fstat(fd, &opened) == 0, stat(path, &current) == 0,
                  opened.st_ino == current.st_ino, opened.st_dev == current.st_dev else {
                close(fd)
                continue
            }
            let started = ISO8601DateFormatter().string(from: Date())
            let text = "\(getpid())\n\(command)\n\(started)\n"
            _ = ftruncate(fd, 0)
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
            let lock = WorkspaceLock(path: path, fd: fd)
            held.withLock { $0[path] = (lock, 1) }
            return lock
        }
        throw WorkspaceError(.inUse, path: root.path, detail: "another process (the lock file keeps changing)")
    }

    /// Who holds the lock of the workspace at `root`, if anyone (a live process holds its flock).
    public static func holder(root: URL) -> Holder? {
        let path = lockPath(root: root)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return readHolder(fd: fd)
    }

    /// Whether this process holds the lock of the workspace at `root`: then no other process writes to it, and a
    /// run row another process left `running` belongs to one that is gone.
    public static func isHeld(root: URL) -> Bool {
        let path = lockPath(root: root)
        return held.withLock { $0[path] != nil }
    }

    /// Gives one hold back; the lock is released when every hold of this process is.
    public func release() {
        let last = Self.held.withLock { table -> Bool in
            guard var entry = table[path] else { return false }
            entry.count -= 1
            if entry.count > 0 {
                table[path] = entry
                return false
            }
            table[path] = nil
            return true
        }
        if last {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    static func lockPath(root: URL) -> String {
        let directory = root.standardizedFileURL.path
        let resolved = directory.withCString { pointer -> String in
            guard let real = realpath(pointer, nil) else { return directory }
            defer { free(real) }
            return String(cString: real)
        }
        return (resolved as NSString).appendingPathComponent(fileName)
    }

    private static func readHolder(fd: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        let lines = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count >= 3, let pid = Int32(lines[0]) else { return nil }
        return Holder(pid: pid, command: lines[1], started: lines[2])
    }

    private static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
