/// Reads `X-Robots-Tag` header values for the directives that forbid using an image for a dataset:
/// `noai`, `noimageai`, `noindex`, `noimageindex`, either for every agent (`noai, noindex`) or addressed to us
/// (`dsbuild: noai`). Directives addressed to another agent (`googlebot: noindex`) are ignored.
public enum XRobotsTag {
    public static let blocking: Set<String> = ["noai", "noimageai", "noindex", "noimageindex", "none"]

    /// The first blocking directive among the header values, or nil when the image may be used.
    public static func blockingDirective(in values: [String], userAgent: String = "dsbuild") -> String? {
        let token = userAgent.lowercased()
        for value in values {
            // A value is `[agent:] directive, directive…`; an agent prefix applies to the rest of the value.
            var agent: String?
            for part in value.lowercased().split(separator: ",") {
                var directive = part.trimmingCharacters(in: .whitespaces)
                if let colon = directive.firstIndex(of: ":") {
                    let head = directive[..<colon].trimmingCharacters(in: .whitespaces)
                    // `unavailable_after: <date>` is a directive with an argument, not an agent.
                    if head != "unavailable_after" && head != "max-image-preview" && head != "max-snippet"
                        && head != "max-video-preview" {
                        agent = head
                        directive = directive[directive.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    }
                }
                if let agent, agent != token, agent != "*" { continue }
                if blocking.contains(directive) { return directive }
            }
        }
        return nil
    }
}
