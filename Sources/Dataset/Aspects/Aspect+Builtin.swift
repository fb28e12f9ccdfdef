extension Aspect {
    /// Every built-in aspect, one file each (`Aspect+<Name>.swift`): the one list `describe` and `shards` read.
    public static let builtin: [Aspect] = [.visual, .cultural, .historical, .ecological, .caption]

    /// The names of the built-in aspects `describe` can prompt for without a template file.
    public static var promptable: [String] { builtin.filter { $0.prompt != nil }.map(\.name) }
}
