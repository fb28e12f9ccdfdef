import Foundation

/// A Python script of the bundled environment (`trainer/`) run as a child that speaks JSON lines: requests on its
/// stdin, one event a line on its stdout (`{"event": …}`), anything else on stderr (the last lines kept for an
/// error message). Used one request at a time by one owner (the shard writer's parquet, a parquet URL list).
/// Reading blocks the calling thread: a line at a time, so a large stream is never held whole.
public final class PythonLineBridge: @unchecked Sendable {
    // Confined to its owner's thread, except `tail`, which the stderr reader appends to under `lock`.
    private let process = Process()
    private let input = Pipe(), output = Pipe(), errors = Pipe()
    private var buffer = Data()
    /// How much of `buffer` is known to hold no newline.
    private var scanned = 0
    private var ended = false
    private let lock = NSLock()
    private var tail: [String] = []
    private let stderrDone = DispatchGroup()
    /// The interpreter and script, for messages.
    public let python: String
    public let script: URL

    /// Starts `python script arguments…`; throws `BridgeError(.start)` when it cannot be started.
    public init(python: String, script: URL, arguments: [String] = []) throws(BridgeError) {
        self.python = python
        self.script = script
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // A child that died before reading a request must be an EPIPE error on write, not a SIGPIPE that ends dsbuild.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch {
            throw BridgeError(.start, script: script.lastPathComponent, "cannot run \(python): \(error.localizedDescription)")
        }
        let handle = errors.fileHandleForReading
        stderrDone.enter()
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    lock.withLock {
                        tail.append(line)
                        if tail.count > 20 { tail.removeFirst(tail.count - 20) }
                    }
                }
            }
            stderrDone.leave()
        }
    }

    /// Sends one request line (a JSON object).
    public func send(_ object: [String: Any]) throws(BridgeError) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]) else {
            throw BridgeError(.protocolError, script: script.lastPathComponent, "a request could not be encoded as JSON")
        }
        do {
            try input.fileHandleForWriting.write(contentsOf: data + Data([0x0A]))
        } catch {
            throw BridgeError(.exited, script: script.lastPathComponent, failure(or: "it stopped reading its input"))
        }
    }

    /// Closes the child's stdin (it finishes and exits).
    public func finishInput() { try? input.fileHandleForWriting.close() }

    /// The next event the child wrote (a line that is a JSON object with `event`; other stdout lines are skipped);
    /// nil at the end of its output.
    public func next() throws(BridgeError) -> [String: Any]? {
        while let line = nextLine() {
            guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], object["event"] is String else { continue }
            return object
        }
        return nil
    }

    /// The next event, which must exist: an `error` event or the end of the output is thrown as the child's failure.
    public func expect(_ event: String, or other: String? = nil) throws(BridgeError) -> [String: Any] {
        guard let object = try next() else {
            throw BridgeError(.exited, script: script.lastPathComponent, failure(or: "it ended without a \(event) event"))
        }
        if object["event"] as? String == "error" {
            throw BridgeError(.reported, script: script.lastPathComponent, object["message"] as? String ?? "unknown error")
        }
        guard object["event"] as? String == event || (other != nil && object["event"] as? String == other) else {
            throw BridgeError(.protocolError, script: script.lastPathComponent, "expected a \(event) event, got \(object["event"] ?? "")")
        }
        return object
    }

    /// Waits for the child to exit; its status.
    @discardableResult
    public func close() -> Int32 {
        finishInput()
        process.waitUntilExit()
        stderrDone.wait()
        return process.terminationStatus
    }

    /// Stops the child (SIGTERM) and waits for it. A child started from a dispatch thread inherits that thread's
    /// blocked signals, SIGTERM among them, and one blocked writing an event nobody reads would wait for ever: the
    /// events pipe is closed (its write fails) and what still runs after two seconds is killed.
    public func terminate() {
        if process.isRunning { process.terminate() }
        try? output.fileHandleForReading.close()
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        close()
    }

    /// Why the child stopped answering, naming the interpreter once: how it ended (`exited with status 1`,
    /// `killed by signal 9`) and its last non-blank stderr line, else `fallback` (what was missing).
    private func failure(or fallback: String) -> String {
        // Its output ended or it stopped reading: it is exiting; give it a moment to be reaped.
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
        let ended: String
        if process.isRunning {
            ended = "still running"
        } else {
            stderrDone.wait()
            ended = process.terminationReason == .uncaughtSignal
                ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
        }
        let last = lock.withLock { tail.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) }
        return "\(python) \(ended): \(last ?? fallback)"
    }

    private func nextLine() -> Data? {
        while true {
            // Only the bytes not yet searched are searched (a batch line is megabytes, read in 64 KiB chunks).
            let newline: Int? = buffer.withUnsafeBytes { raw in
                guard scanned < raw.count, let base = raw.baseAddress else { return nil }
                guard let hit = memchr(base + scanned, 0x0A, raw.count - scanned) else { return nil }
                return base.distance(to: UnsafeRawPointer(hit))
            }
            if let newline {
                let line = buffer.prefix(newline)
                buffer = Data(buffer.suffix(from: buffer.startIndex + newline + 1))
                scanned = 0
                return Data(line)
            }
            scanned = buffer.count
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll(); scanned = 0 }
                return buffer
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { ended = true } else { buffer.append(chunk) }
        }
    }
}

/// A bridge to a bundled Python script that failed: which script, what went wrong.
public struct BridgeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The interpreter could not be started.
        case start
        /// The child exited (or stopped reading) before it answered.
        case exited
        /// The child reported an error event.
        case reported
        /// The child wrote something that is not the protocol.
        case protocolError = "protocol"
    }
    public let code: Code
    public let script: String
    public let message: String
    public init(_ code: Code, script: String, _ message: String) {
        self.code = code
        self.script = script
        self.message = message
    }
    public var description: String { "\(script): \(message)" }
}
