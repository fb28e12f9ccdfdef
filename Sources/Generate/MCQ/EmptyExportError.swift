import Foundation

/// `mcq --export` selected no question and the file already exists: it is left as it is.
public struct EmptyExportError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let origin: String?
    public let split: String?
    public var description: String {
        let filter = [origin.map { "origin \($0)" }, split.map { "split \($0)" }].compactMap { $0 }
        return "mcq --export: no accepted questions\(filter.isEmpty ? "" : " of " + filter.joined(separator: ", ")); "
            + "\(file) already exists and is left as it is (check --origin and --split, or export to a new file)"
    }
}
