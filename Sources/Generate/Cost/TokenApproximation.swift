import Foundation

/// dsbuild's approximation of how many tokens a text is for an OpenAI-style BPE tokenizer (o200k), without the
/// tokenizer's vocabulary (it is downloaded at run time, which an offline machine cannot do).
///
/// The text is cut into runs as a BPE pre-tokenizer does: a Latin word (with the one space before it) is one token up
/// to 6 letters and one more per 4 letters past that; digits go three to a token; a Hangul syllable is 0.85 token;
/// other letters (CJK, Cyrillic, accented runs) 0.9 each; a punctuation mark or symbol one; a whitespace run other
/// than a single space one. On K-Viscuit's questions, dsbuild's prompts and descriptions in English and Korean it
/// lands within ±10% of o200k overall (bench/cost measures it against the real tokenizer); per model and purpose the
/// workspace's cache calibrates it against the endpoint's real counts (`TokenCalibration`).
public enum TokenApproximation {
    public static func tokens(in text: String) -> Double {
        var total = 0.0
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            var j = i + 1
            if isLatinLetter(c) {
                while j < scalars.count, isLatinLetter(scalars[j]) { j += 1 }
                let letters = j - i
                total += letters <= 6 ? 1 : 1 + ((Double(letters) - 6) / 4).rounded(.up)
            } else if c.properties.numericType != nil, c.isASCII {
                while j < scalars.count, scalars[j].isASCII, scalars[j].properties.numericType != nil { j += 1 }
                total += (Double(j - i) / 3).rounded(.up)
            } else if c.properties.isWhitespace {
                while j < scalars.count, scalars[j].properties.isWhitespace { j += 1 }
                if !(j - i == 1 && c == " ") { total += 1 }
            } else if isHangul(c) {
                while j < scalars.count, isHangul(scalars[j]) { j += 1 }
                total += max(1, (Double(j - i) * 0.85).rounded())
            } else if c.properties.isAlphabetic {
                while j < scalars.count, scalars[j].properties.isAlphabetic, !isLatinLetter(scalars[j]), !isHangul(scalars[j]) { j += 1 }
                total += Double(j - i) * 0.9
            } else {
                total += 1
            }
            i = j
        }
        return total
    }

    private static func isLatinLetter(_ c: Unicode.Scalar) -> Bool {
        (c.value >= 0x41 && c.value <= 0x5A) || (c.value >= 0x61 && c.value <= 0x7A)
    }

    private static func isHangul(_ c: Unicode.Scalar) -> Bool { c.value >= 0xAC00 && c.value <= 0xD7A3 }
}
