import Dataset
import Foundation
import Imaging

/// A scripted judge that answers as a perfect verifier would. It recognises each image by its content — the pHash
/// of its upright pixels, matched to the nearest image it was told the truth about — never by file name, URL or
/// request order, so a test or benchmark can plant noise (an image under a wrong keyword, a drawing) and measure
/// what dsbuild's checks catch with a verifier that makes no mistakes of its own.
public final class PerfectVerifier: Sendable {
    struct Known: Sendable {
        let hash: PerceptualHash
        let keyword: String
    }

    let known: [Known]
    /// An image farther than this (Hamming distance) from every known one is none of them.
    public let maxDistance: Int

    /// - Parameter truth: each known image's bytes (as stored, EXIF orientation included) and what it really shows.
    public init(truth: [(image: Data, keyword: String)], maxDistance: Int = 10) throws {
        known = try truth.map { Known(hash: try PerceptualHash.compute(data: $0.image, upright: true), keyword: $0.keyword) }
        self.maxDistance = maxDistance
    }

    /// What the image shows: the keyword of the nearest known image within `maxDistance`, else nil.
    public func keyword(of image: Data) -> String? {
        guard let nearest = nearest(image), nearest.distance <= maxDistance else { return nil }
        return nearest.keyword
    }

    /// Every keyword the image truly shows: a photo that is in the truth twice (the same picture filed for two
    /// keywords) shows both. The known images at the nearest distance, within `maxDistance`.
    public func keywords(of image: Data) -> Set<String> {
        guard let hash = try? PerceptualHash.compute(data: image, upright: true) else { return [] }
        let distances = known.map { ($0.keyword, $0.hash.distance(to: hash)) }
        guard let best = distances.map(\.1).min(), best <= maxDistance else { return [] }
        return Set(distances.filter { $0.1 <= best + 2 }.map(\.0))
    }

    /// The nearest known image's keyword and its distance.
    public func nearest(_ image: Data) -> (keyword: String, distance: Int)? {
        guard let hash = try? PerceptualHash.compute(data: image, upright: true) else { return nil }
        return known.map { ($0.keyword, $0.hash.distance(to: hash)) }.min { $0.1 < $1.1 }
    }

    /// The images of a chat-completions request body (data URLs of its user messages), decoded.
    public static func images(in body: [String: Any]) -> [Data] {
        let messages = body["messages"] as? [[String: Any]] ?? []
        return messages.flatMap { message -> [Data] in
            guard let parts = message["content"] as? [[String: Any]] else { return [] }
            return parts.compactMap { part in
                guard let url = (part["image_url"] as? [String: Any])?["url"] as? String,
                      let comma = url.firstIndex(of: ","), url.hasPrefix("data:") else { return nil }
                return Data(base64Encoded: String(url[url.index(after: comma)...]))
            }
        }
    }

    /// The JSON-schema name of a request (`relevance_judgement`, `mcq`…), nil for a text request.
    public static func schemaName(_ body: [String: Any]) -> String? {
        ((body["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["name"] as? String
    }

    /// The answer to a relevance request (`filter.relevance`): the option naming what the image shows, else the
    /// none option; nil when the body is not a relevance request.
    public func answerRelevance(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour? {
        guard Self.schemaName(body) == "relevance_judgement" else { return nil }
        let text = FakeChatEndpoint.firstUserText(body)
        guard let list = text.range(of: "Options:\n") else { return .content("{}") }
        let options = text[list.upperBound...].split(separator: "\n").compactMap { line in
            line.hasPrefix("- ") ? String(line.dropFirst(2)) : nil
        }
        let shown = Self.images(in: body).first.map(keywords(of:)) ?? []
        let choice = options.first { shown.contains($0) } ?? RelevanceConfusions.noneOption
        let reply: [String: Any] = ["choice": choice, "confidence": 0.9, "reason": "recognised by its content"]
        let data = (try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])) ?? Data()
        return .content(String(decoding: data, as: UTF8.self))
    }
}

extension PerfectVerifier {
    /// The false visual claim `PlantingWriter` adds to a description; the perfect verifier finds it unsupported.
    public static let falseClaim = "Its surface is covered in bright purple polka dots."

    static func reply(_ object: [String: Any]) -> FakeChatEndpoint.Behaviour {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return .content(String(decoding: data, as: UTF8.self))
    }

    /// The answer to a faithfulness request (`describe.verify`): `unfaithful` naming the planted claim when the
    /// description (the last `<description>` block) holds it, else `faithful`; nil when the body is not one.
    public func answerFaithfulness(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour? {
        guard Self.schemaName(body) == "faithfulness_judgement" else { return nil }
        let text = FakeChatEndpoint.firstUserText(body)
        guard let open = text.range(of: "<description>\n", options: .backwards),
              let close = text.range(of: "\n</description>", options: .backwards), open.upperBound <= close.lowerBound else {
            return Self.reply(["unsupported": [], "verdict": "faithful"])
        }
        let description = String(text[open.upperBound..<close.lowerBound])
        return description.contains(Self.falseClaim)
            ? Self.reply(["unsupported": [Self.falseClaim], "verdict": "unfaithful"])
            : Self.reply(["unsupported": [], "verdict": "faithful"])
    }

    /// The answer to an answer-key request (`mcq.verify`), never shown the key: for a question `PlantingWriter`'s
    /// model wrote, the option its writer meant as right (tagged `… A`); else the option naming what the image
    /// shows — `ambiguous` when two options do, or none; nil when the body is not one.
    public func answerAnswerKey(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour? {
        guard Self.schemaName(body) == "answer_key_judgement" else { return nil }
        let text = FakeChatEndpoint.firstUserText(body)
        guard let open = text.range(of: "<question>\n", options: .backwards),
              let close = text.range(of: "\n</question>", options: .backwards), open.upperBound <= close.lowerBound else {
            return Self.reply(["answer": "A", "ambiguous": true, "reason": "no question found"])
        }
        let lines = text[open.upperBound..<close.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        let options = lines.compactMap { line -> (letter: String, text: String)? in
            guard line.count > 3, line.dropFirst().hasPrefix(". "), let letter = line.first, letter.isUppercase else { return nil }
            return (String(letter), String(line.dropFirst(3)))
        }
        let letters = ["A", "B", "C", "D"]
        if options.count == 4, let tagged = options.first(where: { $0.text.hasSuffix(" A") }),
           options.allSatisfy({ option in letters.contains { option.text.hasSuffix(" " + $0) } }) {
            return Self.reply(["answer": tagged.letter, "ambiguous": false, "reason": "the option the writer meant"])
        }
        let shown = Self.images(in: body).first.map(keywords(of:)) ?? []
        let right = options.filter { shown.contains($0.text) }
        if right.count == 1 { return Self.reply(["answer": right[0].letter, "ambiguous": false, "reason": "the photo shows it"]) }
        return Self.reply(["answer": options.first?.letter ?? "A", "ambiguous": true,
                           "reason": right.isEmpty ? "no option is what the photo shows" : "two options are what the photo shows"])
    }

    /// Every judge this verifier answers, in one responder (nil: not a judge request).
    public func answer(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour? {
        answerRelevance(body) ?? answerFaithfulness(body) ?? answerAnswerKey(body)
    }
}
