import Foundation

/// dsbuild's own question JSONL: every stored field, so a workspace's questions travel to another workspace whole.
enum DSBuildQuestionFormat {
    static let known: Set<String> = ["id", "type", "question", "options", "answer", "category", "split", "origin", "source",
                                     "keyword", "image_sha256", "image", "image_url", "aspect", "rationale", "model",
                                     "template_sha256", "extra"]

    static func read(_ o: [String: Any], line: Int) throws(QuestionFormatProblem) -> Question {
        let question = try QuestionChecks.question(o)
        guard let list = QuestionChecks.list(o["options"]) else { throw QuestionFormatProblem("no `options` list") }
        let options = try QuestionChecks.options(list)
        let answer = try QuestionChecks.answer(o["answer"], options: options)
        var extra = QuestionJSON.object(QuestionChecks.extra(o, known: known))
        for (key, value) in (o["extra"] as? [String: Any]) ?? [:] where extra[key] == nil { extra[key] = value }
        let sha = QuestionJSON.string(o["image_sha256"])
        return Question(
            id: QuestionJSON.string(o["id"]) ?? "line-\(line)", type: QuestionJSON.int(o["type"]) ?? 0, question: question,
            options: options, answer: answer, category: QuestionJSON.string(o["category"]), split: QuestionJSON.string(o["split"]),
            origin: QuestionJSON.string(o["origin"] ?? o["source"]), keyword: QuestionJSON.string(o["keyword"]),
            imageSHA256: sha?.isEmpty == true ? nil : sha, imagePath: QuestionJSON.string(o["image"]),
            imageURL: QuestionJSON.string(o["image_url"]), aspect: QuestionJSON.string(o["aspect"]),
            rationale: QuestionJSON.string(o["rationale"]), model: QuestionJSON.string(o["model"]),
            templateSHA256: QuestionJSON.string(o["template_sha256"]), extra: QuestionJSON.text(extra))
    }

    static func write(_ r: Question) -> [String: Any] {
        var object: [String: Any] = ["id": r.id, "type": r.type, "question": r.question, "options": r.options, "answer": r.answer]
        let optional: [String: String?] = [
            "category": r.category, "split": r.split, "origin": r.origin, "keyword": r.keyword, "image_sha256": r.imageSHA256,
            "image": r.imagePath, "image_url": r.imageURL, "aspect": r.aspect, "rationale": r.rationale, "model": r.model,
            "template_sha256": r.templateSHA256,
        ]
        for (key, value) in optional { if let value { object[key] = value } }
        let extra = QuestionJSON.object(r.extra)
        if !extra.isEmpty { object["extra"] = extra }
        return object
    }
}
