import Dataset
import Foundation
import GRDB

/// MMStar's vision-indispensable check: ask the model each accepted question without the image (and, for Type 2,
/// without the descriptions), `repeats` times with different seeds; a question answered right every time is
/// leaky. With `drop`, leaky questions are rejected (reason `leaky`).
public enum BlindCheck {
    public struct Report: Sendable, Equatable {
        /// Per type: (checked, leaky).
        public var byType: [Int: (checked: Int, leaky: Int)] = [:]
        public var failures = 0

        public static func == (a: Report, b: Report) -> Bool {
            a.failures == b.failures && a.byType.keys == b.byType.keys
                && a.byType.allSatisfy { b.byType[$0.key]?.checked == $0.value.checked && b.byType[$0.key]?.leaky == $0.value.leaky }
        }

        public var json: [String: Any] {
            var object: [String: Any] = ["failures": failures]
            for (type, value) in byType {
                object["type\(type)"] = ["checked": value.checked, "leaky": value.leaky,
                                         "leak_rate": value.checked == 0 ? 0 : Double(value.leaky) / Double(value.checked)]
            }
            return object
        }
    }

    /// The question as every model is asked it (`QuestionVocabulary.prompt`).
    public static func prompt(_ q: MCQuestion) -> String {
        QuestionVocabulary.prompt(question: q.question, options: q.options)
    }

    /// The option a reply chose, by the one extractor eval uses too (`LetterExtractor`).
    public static func letter(in reply: String, options: [String]) -> Int? {
        LetterExtractor.extract(reply, options: options)
    }

    public static func run(settings: MCQSettings, client: any ChatService, manifest: Manifest, repeats: Int, drop: Bool) async throws -> Report {
        let questions = try await manifest.asyncRead { db in try QuestionStore.accepted(origin: "generated", in: db) }
        var report = Report()
        for q in questions {
            var right = 0
            var failed = false
            for attempt in 0..<max(repeats, 1) {
                let request = ChatRequest(model: settings.model, messages: [.user(prompt(q))], temperature: attempt == 0 ? 0 : 0.7,
                                          maxTokens: 3, seed: settings.seed + attempt, purpose: "mcq.blind", refresh: settings.refresh)
                do {
                    let result = try await client.complete(request)
                    if letter(in: result.text, options: q.options) == q.answer { right += 1 }
                } catch {
                    if error.isFatal || error.code == .cancelled { throw error }
                    failed = true
                    break
                }
            }
            if failed { report.failures += 1; continue }
            let leaky = right == max(repeats, 1)
            var entry = report.byType[q.type] ?? (0, 0)
            entry.checked += 1
            if leaky { entry.leaky += 1 }
            report.byType[q.type] = entry
            try await manifest.asyncWrite { db in
                try db.execute(sql: "UPDATE questions SET leaky = ? WHERE id = ?", arguments: [leaky, q.id])
                if leaky && drop {
                    try db.execute(sql: "UPDATE questions SET status = 'rejected', reason = 'leaky' WHERE id = ?", arguments: [q.id])
                }
            }
        }
        return report
    }
}
