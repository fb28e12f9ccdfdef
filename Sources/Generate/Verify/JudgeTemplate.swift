import Dataset
import Foundation

/// A judge's instructions: plain text with named placeholders (`{keyword}`, `{category}`), versioned by the sha256 of
/// its text, which goes into the judge's settings hash — an edited template makes every item pending for the judge
/// again. Built in (`faithfulness`, `faithfulness_text`, `answer_key`, declared with their judges), and replaced by
/// `prompts/judges/<name>.txt` in the workspace when that file exists, as `prompts/describe/<aspect>.txt` replaces an
/// aspect's prompt.
///
/// The template holds the instructions only. What is judged — the description, the references, the question and
/// its options — is appended by the judge in fixed, tagged blocks (see `FaithfulnessJudge` and `AnswerKeyJudge`), so
/// a request stays machine-readable whatever the template says.
public struct JudgeTemplate: Sendable, Equatable {
    public let name: String
    public let text: String
    public let sha256: String

    public static let placeholders = ["keyword", "category"]

    /// Where a workspace's templates replace the built-in ones.
    public static let folder = "prompts/judges"

    public init(name: String, text: String) {
        self.name = name
        self.text = text
        sha256 = ContentHash.sha256Hex(text)
    }

    /// The template with its placeholders filled (missing values become empty strings).
    public func render(_ values: [String: String]) -> String {
        PromptPlaceholders.fill(text, names: Self.placeholders, values: values).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `<workspace>/prompts/judges/<name>.txt` when it exists, else `builtin`. Throws when the file exists but
    /// cannot be read.
    public static func load(_ name: String, builtin: String, workspaceRoot: URL?) throws -> JudgeTemplate {
        if let workspaceRoot {
            let file = workspaceRoot.appendingPathComponent(folder).appendingPathComponent("\(name).txt")
            if FileManager.default.fileExists(atPath: file.path) {
                do {
                    return JudgeTemplate(name: name, text: try String(contentsOf: file, encoding: .utf8))
                } catch {
                    throw ChatError(.badRequest, "cannot read the judge template \(file.path): \(error.localizedDescription); fix or remove the file")
                }
            }
        }
        return JudgeTemplate(name: name, text: builtin)
    }
}
