extension ImageReference {
    /// The text with every placeholder token of `tokens` spelled so that no trainer reads it as one: its angle
    /// brackets become the single guillemets `‹ ›` (`<image>` → `‹image›`, `<|image_pad|>` → `‹|image_pad|›`). A
    /// description, question or option that writes a placeholder would otherwise give a sample more image tags than
    /// images (LLaMA-Factory rejects the row; LLaVA moves the tag). `shards` and every export write texts through it.
    public static func neutralised(_ text: String) -> String {
        guard text.contains("<") else { return text }
        var out = text
        for token in tokens where out.contains(token) {
            out = out.replacingOccurrences(of: token, with: "‹" + token.dropFirst().dropLast() + "›")
        }
        return out
    }
}
