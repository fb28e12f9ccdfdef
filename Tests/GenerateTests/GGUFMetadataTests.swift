import _DSBuildTestSupport
import Dataset
import Foundation
@testable import Generate
import Testing

/// What dsbuild reads from a GGUF's header: its string metadata (the vocabulary array stepped over), whether it
/// carries a chat template, and the prompting `auto` resolves to for it.
struct GGUFMetadataTests {
    func file(_ data: Data, _ dir: TemporaryDirectory, _ name: String = "model.gguf") throws -> URL {
        let url = dir.path(name)
        try data.write(to: url)
        return url
    }

    @Test func stringsAreReadPastTheVocabularyAndTheChatTemplateIsFound() throws {
        let dir = TemporaryDirectory("gguf")
        let chat = try GGUFMetadata.read(file(GGUFFixture.chatModel, dir))
        #expect(chat.version == 3)
        #expect(chat.architecture == "gemma3" && chat.name == "Test it 1M")
        #expect(chat.chatTemplate?.hasPrefix("{% for m in messages %}") == true)
        #expect(chat.strings["general.alignment"] == nil, "a number is no string")
        let base = try GGUFMetadata.read(file(GGUFFixture.baseModel, dir, "base.gguf"))
        #expect(base.chatTemplate == nil && base.name == "Test base 1M")
    }

    @Test func autoIsDocumentForABaseModelChatForAChatModelAndASettingIsKept() throws {
        let dir = TemporaryDirectory("gguf")
        let base = try file(GGUFFixture.baseModel, dir, "base.gguf")
        let chat = try file(GGUFFixture.chatModel, dir, "chat.gguf")
        #expect(DocumentPrompt.resolve(.auto, model: base) == .document)
        #expect(DocumentPrompt.resolve(.auto, model: chat) == .chat)
        #expect(DocumentPrompt.resolve(.chat, model: base) == .chat)
        #expect(DocumentPrompt.resolve(.document, model: chat) == .document)
        // An unreadable file is left to the server to refuse: asked as a chat.
        #expect(DocumentPrompt.resolve(.auto, model: try file(Data("GGUF".utf8), dir, "short.gguf")) == .chat)
    }

    @Test(arguments: [("magic", 0), ("cut", 40), ("cut", 900)])
    func aDamagedHeaderIsAnErrorNamingTheFile(kind: String, keep: Int) throws {
        let dir = TemporaryDirectory("gguf")
        var data = GGUFFixture.chatModel
        if kind == "magic" { data.replaceSubrange(0..<4, with: Data("GGML".utf8)) } else { data = data.prefix(keep) }
        let url = try file(data, dir)
        #expect(throws: GGUFMetadata.ReadError.self) { try GGUFMetadata.read(url) }
        do { _ = try GGUFMetadata.read(url) } catch { #expect(error.description.contains(url.path)) }
    }

    /// A 144 KB file of arrays nested 12,000 deep crashed a recursive walk (found by the attack on this path).
    @Test func deeplyNestedArraysAreRefusedNotWalkedToTheStacksEnd() throws {
        let dir = TemporaryDirectory("gguf")
        var data = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        u32(3); u64(0); u64(1); u64(1); data.append(contentsOf: Array("a".utf8)); u32(9)
        for _ in 0..<12_000 { u32(9); u64(1) }
        u32(0); u64(0)
        let url = try file(data, dir)
        do {
            _ = try GGUFMetadata.read(url)
            Issue.record("a header nested 12,000 deep was read")
        } catch {
            #expect(error.description.contains("nested deeper than"), "\(error)")
        }
        let resolved = DocumentPrompt.resolution(.auto, model: url)
        #expect(resolved.prompting == .chat && resolved.unreadable?.contains(url.path) == true)
    }

    @Test func theServerIsGivenTheDocumentTemplateOnlyUnderDocumentPrompting() {
        let binary = LocalServerBinary(executable: URL(fileURLWithPath: "/bin/true"), origin: "test")
        var configuration = LocalServerConfiguration(binary: binary, model: URL(fileURLWithPath: "/tmp/m.gguf"), logFile: URL(fileURLWithPath: "/tmp/log"))
        #expect(!configuration.arguments(port: 1).contains("--jinja"))
        configuration.prompting = .document
        let arguments = configuration.arguments(port: 1)
        let index = try? #require(arguments.firstIndex(of: "--chat-template"))
        #expect(arguments.contains("--jinja") && index.map { arguments[$0 + 1] } == DocumentPrompt.serverTemplate)
    }

    /// The model the quick start installs is a pretrained base model: it has no chat template.
    @Test(.enabled(if: LlamaVenv.available, Comment(rawValue: LlamaVenv.unavailableReason ?? "")))
    func theQuickStartModelHasNoChatTemplate() throws {
        let whole = URL(fileURLWithPath: try #require(LlamaVenv.modelPath, "the gemma3 270M GGUF in the llama venv"))
        let metadata = try GGUFMetadata.read(whole)
        #expect(metadata.architecture == "gemma3")
        #expect(metadata.chatTemplate == nil)
        #expect(DocumentPrompt.resolve(.auto, model: whole) == .document)
    }
}
