/// A filter run stopped because a rule's judge refuses every request (a rejected key, an exhausted quota, a wait
/// beyond the limit): the images not decided yet stay pending, and `dsbuild filter` exits 2 with the reason.
public struct FilterStopped: Error, Sendable, CustomStringConvertible {
    public let rule: String
    public let reason: String

    public var description: String { "the \(rule) rule cannot decide any image: \(reason)" }
}
