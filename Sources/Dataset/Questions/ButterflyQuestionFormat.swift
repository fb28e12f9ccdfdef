import Foundation

/// BUTTERFLY-style question JSONL: `options` as one string `"A) … B) … C) … D) …"`, `answer` a letter,
/// `question_type` "1"/"2", `label` the keyword, `image` relative to the images folder, plus `id`, `category`,
/// `split` and `origin`. The reader also takes MMBench's per-letter fields (`A`…`H`) and a `choices` list.
enum ButterflyQuestionFormat {
    static let known: Set<String> = Set(["id", "question_id", "index", "question", "options", "choices", "answer", "question_type",
                                     "type", "label", "keyword", "image", "image_url", "category", "split", "origin"]
        + QuestionVocabulary.letters)

    static func read(_ o: [String: Any], line: Int) throws(QuestionFormatProblem) -> Question {
        let question = try QuestionChecks.question(o)
        let list: [String]
        if let text = o["options"] as? String {
            list = splitOptions(text)
        } else if let l = QuestionChecks.list(o["options"] ?? o["choices"]) {
            list = l
        } else {
            var fields: [String] = []
            for letter in QuestionVocabulary.letters {
                guard let value = QuestionJSON.string(o[letter]), !value.isEmpty else { break }
                fields.append(value)
            }
            list = fields
        }
        let options = try QuestionChecks.options(list)
        let answer = try QuestionChecks.answer(o["answer"], options: options)
        return Question(
            id: QuestionJSON.string(o["id"] ?? o["question_id"] ?? o["index"]) ?? "line-\(line)",
            type: QuestionJSON.int(o["question_type"] ?? o["type"]) ?? 0, question: question, options: options, answer: answer,
            category: QuestionJSON.string(o["category"]), split: QuestionJSON.string(o["split"]),
            origin: QuestionJSON.string(o["origin"]), keyword: QuestionJSON.string(o["keyword"] ?? o["label"]),
            imagePath: QuestionJSON.string(o["image"]), imageURL: QuestionJSON.string(o["image_url"]),
            extra: QuestionChecks.extra(o, known: known))
    }

    static func write(_ r: Question) -> [String: Any] {
        QuestionChecks.merged(r.extra, [
            "id": r.id, "question": r.question, "options": joinOptions(r.options), "answer": r.answerLetter,
            "question_type": String(r.type), "label": r.keyword, "image": r.imagePath, "image_url": r.imageURL,
            "category": r.category, "split": r.split, "origin": r.origin,
        ])
    }

    /// `"A) x B) y"`: each option after its letter and `) `, one space between options.
    static func joinOptions(_ options: [String]) -> String {
        options.enumerated().map { "\(QuestionVocabulary.letters[$0.offset])) \($0.element)" }.joined(separator: " ")
    }

    /// The inverse of `joinOptions`: the text must start with `A) `; each next option starts at the first ` B) `,
    /// ` C) `… after the previous one.
    static func splitOptions(_ text: String) -> [String] {
        let letters = QuestionVocabulary.letters
        guard text.hasPrefix("\(letters[0])) ") else { return [] }
        var options: [String] = []
        var rest = text.dropFirst(3)
        for next in letters.dropFirst() {
            guard let range = rest.range(of: " \(next)) ") else { break }
            options.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        options.append(String(rest))
        return options
    }
}
