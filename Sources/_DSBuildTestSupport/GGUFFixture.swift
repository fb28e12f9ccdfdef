import Foundation

/// Writes small GGUF files (version 3 header, little-endian) for tests of what dsbuild reads from a model's
/// metadata: string entries, a 32-bit integer, a vocabulary-like string array, and no tensors.
public enum GGUFFixture {
    /// A GGUF header holding `strings` (in order), `general.alignment`, and a `tokenizer.ggml.tokens` array of
    /// `vocabulary` strings.
    public static func data(strings: [(String, String)], vocabulary: Int = 300) -> Data {
        var out = Data("GGUF".utf8)
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ text: String) { u64(UInt64(text.utf8.count)); out.append(contentsOf: Array(text.utf8)) }
        u32(3)
        u64(0)
        u64(UInt64(strings.count + 2))
        string("general.alignment"); u32(4); u32(32)
        string("tokenizer.ggml.tokens"); u32(9); u32(8); u64(UInt64(vocabulary))
        for index in 0..<vocabulary { string("<tok\(index)>") }
        for (key, value) in strings { string(key); u32(8); string(value) }
        return out
    }

    /// A pretrained base model's header: no chat template (as the Gemma 3 270M GGUF the quick start installs).
    public static let baseModel = data(strings: [("general.architecture", "gemma3"), ("general.name", "Test base 1M")])

    /// An instruction-tuned model's header, with its chat template.
    public static let chatModel = data(strings: [("general.architecture", "gemma3"), ("general.name", "Test it 1M"),
                                                 ("tokenizer.chat_template", "{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}")])
}
