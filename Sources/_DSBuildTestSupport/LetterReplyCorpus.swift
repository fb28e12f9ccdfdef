/// Model replies and the option each must be read as (nil: unparsed), over one question's options — the corpus
/// both letter-extraction call sites (eval, and mcq's blind check) are held to.
public enum LetterReplyCorpus {
    public static let options = ["Bungeo-ppang", "Hwangnam-ppang", "Dakjuk", "Ice cream"]

    public static let cases: [(reply: String, expected: Int?)] = [
        ("A", 0), ("(B)", 1), ("C.", 2), ("Answer: D", 3), ("the answer is A", 0), ("The answer is B.", 1),
        ("answer is (c)", 2), ("**B**", 1), ("I think it's A", 0), ("Dakjuk", 2), ("It is ice cream.", 3),
        ("Bungeo-ppang", 0), ("A or B", nil), ("I cannot tell", nil), ("", nil), ("E", nil),
    ]
}
