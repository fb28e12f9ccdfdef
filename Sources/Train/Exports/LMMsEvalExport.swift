import Dataset
import Foundation

/// An lmms-eval task folder for the test split (`lmms-eval --include_path exports/lmms_eval --tasks dsbuild_mcq`):
/// `dsbuild_mcq.yaml` (the task: `dataset_path: json` over the data file, `doc_to_visual`, `doc_to_text`,
/// `doc_to_target`, `process_results` from `utils.py`, `metric_list` with accuracy), `utils.py`, and the data —
/// `dsbuild_mcq.jsonl` in the K-Viscuit layout `dsbuild eval --questions` reads, with its images (test images,
/// upright, in the dataset's format and resize) in `images/` beside it. The prompt is dsbuild's one vocabulary
/// (`QuestionVocabulary`), so lmms-eval asks exactly what `dsbuild eval` asks; a question without an image is asked
/// as text (no visual). `data_files` is the data file's absolute path (the datasets library resolves a relative
/// one against the working directory): rerun the export after moving the folder.
struct LMMsEvalExport: ShardExportFormat {
    let name = "lmms-eval"
    func owns(_ entry: String) -> Bool { entry == Self.folder }
    static let folder = "lmms_eval"
    static let task = "dsbuild_mcq"

    func write(_ context: ExportContext) throws -> [String] {
        guard context.hasTestQuestions(name, removing: [Self.folder]) else { return [] }
        let dir = context.directory.appendingPathComponent(Self.folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = "\(Self.folder)/\(Self.task).jsonl", yaml = "\(Self.folder)/\(Self.task).yaml", utils = "\(Self.folder)/utils.py"
        let records = try MCQTestExport.records(context, imageFolder: "\(Self.folder)/images")
        try AtomicFile.write(try ExportContext.jsonLines(records), to: context.directory.appendingPathComponent(data))
        let dataPath = context.directory.appendingPathComponent(data).standardizedFileURL.path
        try AtomicFile.write(Data(Self.yaml(dataPath: dataPath).utf8), to: context.directory.appendingPathComponent(yaml))
        try AtomicFile.write(Data(Self.utils.utf8), to: context.directory.appendingPathComponent(utils))
        return [yaml, utils, data]
    }

    /// A YAML double-quoted scalar (JSON's string syntax is one), with every character YAML does not allow as it is
    /// (controls, DEL, C1 such as NEL U+0085, the line and paragraph separators, BOM, non-characters) as `\uXXXX`.
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let json = String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        var out = ""
        for scalar in json.unicodeScalars {
            let v = scalar.value
            let printable = (0x20...0x7E).contains(v) || (0xA0...0xD7FF).contains(v) && v != 0x2028 && v != 0x2029
                || (0xE000...0xFFFD).contains(v) && v != 0xFEFF || (0x10000...0x10FFFF).contains(v)
            if printable || v == 0x09 { out.unicodeScalars.append(scalar) }
            else if v > 0xFFFF { out += String(format: "\\U%08X", v) }
            else { out += String(format: "\\u%04X", v) }
        }
        return out
    }

    static func yaml(dataPath: String) -> String {
        """
        # lmms-eval task written by `dsbuild shards --export lmms-eval`: the test split's multiple-choice questions.
        task: \(task)
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: \(quoted(dataPath))
        test_split: test
        output_type: generate_until
        doc_to_visual: !function utils.doc_to_visual
        doc_to_text: !function utils.doc_to_text
        doc_to_target: !function utils.doc_to_target
        process_results: !function utils.process_results
        generation_kwargs:
          max_new_tokens: 16
          temperature: 0
          do_sample: false
        metric_list:
          - metric: accuracy
            aggregation: mean
            higher_is_better: true
        lmms_eval_specific_kwargs:
          default:
            pre_prompt: ""
            post_prompt: ""
        metadata:
          version: 1.0

        """
    }

    /// The task's functions; the prompt's letters, separators and instruction come from `QuestionVocabulary`.
    static var utils: String {
        let letters = quoted(QuestionVocabulary.letters.joined())
        return """
        \"\"\"lmms-eval functions of the dsbuild_mcq task (written by `dsbuild shards --export lmms-eval`).

        Each doc is a K-Viscuit record: question, options, answer (0-based), question_type, category, id_,
        image_path (relative to images/ beside this file, or null for a question asked as text).
        \"\"\"
        import os
        import re

        from PIL import Image

        HERE = os.path.dirname(os.path.abspath(__file__))
        LETTERS = list(\(letters))
        OPTION_SEPARATOR = \(quoted(QuestionVocabulary.optionSeparator))
        INSTRUCTION = \(quoted(QuestionVocabulary.instruction))


        def doc_to_visual(doc):
            \"\"\"The question's image as RGB (already upright), or no visual for a question asked as text.\"\"\"
            path = doc.get("image_path")
            if not path:
                return []
            with Image.open(os.path.join(HERE, "images", path)) as image:
                return [image.convert("RGB")]


        def doc_to_text(doc, lmms_eval_specific_kwargs=None):
            \"\"\"The question, one `A. option` line per option, then the instruction: the prompt dsbuild eval sends.\"\"\"
            kwargs = lmms_eval_specific_kwargs or {}
            lines = [doc["question"]] + [LETTERS[i] + OPTION_SEPARATOR + o for i, o in enumerate(doc["options"])] + [INSTRUCTION]
            return kwargs.get("pre_prompt", "") + "\\n".join(lines) + kwargs.get("post_prompt", "")


        def doc_to_target(doc):
            \"\"\"The correct option's letter.\"\"\"
            return LETTERS[int(doc["answer"])]


        def extract_letter(text, count):
            \"\"\"The option letter a reply gives: the reply itself, or its first standalone letter among the options.\"\"\"
            allowed = LETTERS[:count]
            reply = (text or "").strip()
            if reply[:1].upper() in allowed and (len(reply) == 1 or not reply[1].isalnum()):
                return reply[0].upper()
            match = re.search(r"\\b([" + "".join(allowed) + r"])\\b", reply)
            return match.group(1) if match else None


        def process_results(doc, results):
            \"\"\"accuracy: 1 when the reply's letter is the answer's.\"\"\"
            return {"accuracy": 1.0 if extract_letter(results[0], len(doc["options"])) == doc_to_target(doc) else 0.0}

        """
    }
}
