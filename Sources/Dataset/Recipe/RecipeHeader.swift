import Foundation

/// The recipe's top-level keys that belong to no command: what the dataset is called, its keyword file, where
/// its workspace lives, and the contact every source's User-Agent carries.
public struct RecipeHeader: RecipeSettings {
    public static let sectionName = ""

    public var name: String?
    public var description: String?
    /// The keyword file, relative to the recipe's folder.
    public var keywords: String?
    /// The workspace folder `dsbuild run` uses when `--workspace` is not given.
    public var workspace: String?
    /// A URL or e-mail address for the User-Agent (Wikimedia's policy asks for one).
    public var contact: String?

    public init() {}

    public static let keys: [SettingKey<RecipeHeader>] = [
        .string("name", \.name, help: "the dataset's name (shard indexes, the report)"),
        .string("description", \.description, help: "a line on what the dataset is for"),
        .string("keywords", \.keywords, help: "the keyword file (txt, csv, tsv, jsonl), relative to the recipe's folder"),
        .string("workspace", \.workspace, help: "the workspace `dsbuild run` uses without --workspace"),
        .string("contact", \.contact, rule: .headerText, help: "URL or e-mail in every source's User-Agent"),
    ]
}
