// Placeholder error for commands whose stage has not landed; deleted when the last one lands.
struct NotYetAvailable: Error, CustomStringConvertible {
    let command: String
    var description: String { "`dsbuild \(command)` is not available in this build yet" }
}
