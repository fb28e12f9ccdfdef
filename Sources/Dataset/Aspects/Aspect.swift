/// One description aspect (visual, cultural, ecological, …), declared once: its name, the prompt `describe`
/// sends for it, the length bounds its descriptions must meet, and the user turns shard records put before
/// its descriptions. `describe` and `shards` both read it from `Aspect.builtin`; a template in
/// `prompts/describe/<name>.txt` of the workspace (or `describe.templates_dir`) replaces its prompt or adds an
/// aspect that has none built in.
public struct Aspect: Sendable, Equatable {
    /// The aspect's name, as recipes, options and the `descriptions.aspect` column spell it.
    public let name: String
    /// The describe prompt: plain text with `{keyword}`, `{category}`, `{language}`, `{source_title}` and
    /// `{source_description}`; nil when only a template file can supply one.
    public let prompt: String?
    /// The shortest accepted description, in characters (`describe.min_chars.<name>` overrides).
    public let minChars: Int
    /// The longest accepted description, in characters (`describe.max_chars.<name>` overrides).
    public let maxChars: Int
    /// The user turn before a text-only shard record of this aspect (`{keyword}` filled); nil: `genericTextTurn`.
    public let textTurn: String?
    /// The user turn after the image in a paired shard record; nil: `genericImageTurn`.
    public let imageTurn: String?
    /// The encyclopedia section a pretrained base model continues for this aspect (`llm.local.prompting:
    /// document`); nil: `genericDocumentSection`.
    public let document: DocumentSection?

    /// A section of an encyclopedia entry, for a base model to continue: its heading ("Appearance", "History") and
    /// one worked example of another subject — a base model follows no instruction, but copies the example's kind
    /// and length of text.
    public struct DocumentSection: Sendable, Equatable {
        public let heading: String
        public let exampleSubject: String
        public let exampleCategory: String
        public let example: String

        public init(heading: String, exampleSubject: String, exampleCategory: String, example: String) {
            self.heading = heading
            self.exampleSubject = exampleSubject
            self.exampleCategory = exampleCategory
            self.example = example
        }
    }

    public init(name: String, prompt: String?, minChars: Int = Aspect.defaultMinChars, maxChars: Int = Aspect.defaultMaxChars,
                textTurn: String? = nil, imageTurn: String? = nil, document: DocumentSection? = nil) {
        self.name = name
        self.prompt = prompt
        self.minChars = minChars
        self.maxChars = maxChars
        self.textTurn = textTurn
        self.imageTurn = imageTurn
        self.document = document
    }

    /// Length bounds of an aspect that declares none (one a template file adds).
    public static let defaultMinChars = 100
    public static let defaultMaxChars = 3000
    /// The text-only user turn of an aspect without its own.
    public static let genericTextTurn = "Describe the {keyword}."
    /// The paired user turn of an aspect without its own.
    public static let genericImageTurn = "Describe the {keyword} in this image."

    /// The document section of an aspect without its own: a general description, with the visual example.
    public static var genericDocumentSection: DocumentSection {
        let example = visual.document!
        return DocumentSection(heading: "Description", exampleSubject: example.exampleSubject,
                               exampleCategory: example.exampleCategory, example: example.example)
    }

    /// The built-in aspect of that name.
    public static func named(_ name: String) -> Aspect? { builtin.first { $0.name == name } }

    /// The built-in aspect of that name, or one with only the default bounds and generic turns (an aspect a
    /// template file adds).
    public static func resolved(_ name: String) -> Aspect { named(name) ?? Aspect(name: name, prompt: nil) }

    /// The text-only shard turn for this aspect.
    public var shardTextTurn: String { textTurn ?? Self.genericTextTurn }
    /// The paired shard turn for this aspect.
    public var shardImageTurn: String { imageTurn ?? Self.genericImageTurn }
    /// The section a base model's document gives this aspect.
    public var documentSection: DocumentSection { document ?? Self.genericDocumentSection }
}
