import Foundation

/// Headless Chromium (Debian's `chromium` package) for tests that look at generated pages as a person would.
public enum HeadlessBrowser {
    public struct Capture: Sendable {
        public let screenshot: URL
        public let log: String
        /// Console and load errors Chromium logged while rendering the page.
        public let consoleErrors: [String]
    }

    public static var executable: String? {
        for name in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: name) {
            return name
        }
        return nil
    }

    /// Opens `page` and saves a screenshot of `width`×`height` to `screenshot`.
    public static func capture(page: URL, screenshot: URL, width: Int = 1280, height: Int = 2400) throws -> Capture {
        guard let executable else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "chromium is not installed (apt-get install chromium)"])
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
            "--window-size=\(width),\(height)", "--screenshot=\(screenshot.path)", page.absoluteString,
        ]
        let errPipe = Pipe()
        process.standardError = errPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let log = String(decoding: data, as: UTF8.self)
        let errors = log.split(separator: "\n").map(String.init).filter { line in
            (line.contains(":CONSOLE") && (line.contains("Uncaught") || line.lowercased().contains("error")))
                || line.contains("ERR_FILE_NOT_FOUND") || line.contains("Failed to load resource")
        }
        return Capture(screenshot: screenshot, log: log, consoleErrors: errors)
    }
}
