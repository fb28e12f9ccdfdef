import Foundation

/// K-Viscuit's question JSONL (`question`, `options`, 0-based `answer`, `category`, `id_`, `question_type`,
/// `image_url`, `image_path` under `images/`). A K-Viscuit record comes back exactly as it was read (unknown fields
/// ride in `extra`); a question of another origin also carries `split`, `origin` and `keyword`, which K-Viscuit's
/// own questions (all test) do not need.
enum KViscuitQuestionFormat {
    static let origin = "k-viscuit"
    static let known: Set<String> = ["question", "options", "answer", "category", "id_", "question_type", "image_url",
                                     "image_path", "split", "origin", "keyword"]

    static func read(_ o: [String: Any], line: Int) throws(QuestionFormatProblem) -> Question {
        let question = try QuestionChecks.question(o)
        guard let list = QuestionChecks.list(o["options"]) else { throw QuestionFormatProblem("no `options` list") }
        let options = try QuestionChecks.options(list)
        let answer = try QuestionChecks.answer(o["answer"], options: options)
        return Question(
            id: QuestionJSON.string(o["id_"] ?? o["id"]) ?? "line-\(line)",
            type: QuestionJSON.int(o["question_type"] ?? o["type"]) ?? 0, question: question, options: options, answer: answer,
            category: QuestionJSON.string(o["category"]), split: QuestionJSON.string(o["split"]),
            origin: QuestionJSON.string(o["origin"]), keyword: QuestionJSON.string(o["keyword"]),
            imagePath: QuestionJSON.string(o["image_path"]), imageURL: QuestionJSON.string(o["image_url"]),
            extra: QuestionChecks.extra(o, known: known))
    }

    static func write(_ r: Question) -> [String: Any] {
        let foreign = (r.origin ?? origin) != origin
        return QuestionChecks.merged(r.extra, [
            "question": r.question, "options": r.options, "answer": r.answer, "id_": r.id, "question_type": r.type,
            "category": r.category, "image_path": r.imagePath, "image_url": r.imageURL,
            "split": foreign ? r.split : nil, "origin": foreign ? r.origin : nil, "keyword": foreign ? r.keyword : nil,
        ])
    }
}
