import Dataset
import Foundation

/// Renders `ReportData` as one HTML page with inline CSS and SVG.
struct ReportHTML {
    let data: ReportData
    let thresholds: ReportWriter.Thresholds
    let thumbnails: Set<String>
    let generated: Date

    func render() -> String {
        var body: [String] = []
        body.append("<h1>dsbuild report</h1>")
        body.append("<p class=\"muted\">generated \(HTML.escape(ISO8601DateFormatter().string(from: generated))) by dsbuild \(DSBuildVersion.string)</p>")
        body.append(funnel())
        body.append(failures())
        body.append(relevance())
        body.append(histograms())
        body.append(keywordGrids())
        body.append(descriptions())
        body.append(questions())
        body.append(judgements())
        body.append(evaluations())
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>dsbuild report</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>\(Self.css)</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>
            """
    }

    static let css = """
        body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
        h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
        .muted{color:#777}
        table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
        .funnel td.n{text-align:right;font-variant-numeric:tabular-nums}
        .grid{display:flex;flex-wrap:wrap;gap:8px;margin:.5em 0 1.5em}
        figure{margin:0;width:170px;font-size:11px}
        figure img,.noimg{width:160px;height:120px;object-fit:contain;background:#f3f3f3;display:block;border:3px solid #2e8b57}
        figure.dropped img,figure.dropped .noimg{border-color:#c0392b;opacity:.6}
        figure.undecided img,figure.undecided .noimg{border-color:#aaa}
        .noimg{display:flex;align-items:center;justify-content:center;color:#999}
        figcaption{overflow-wrap:anywhere}
        .sample{background:#f8f8f8;padding:.5em;margin:.4em 0;white-space:pre-wrap}
        .judged{display:flex;gap:12px;align-items:flex-start;margin:.6em 0}.judged .sample{flex:1;margin:0}
        """

    private func funnel() -> String {
        let s = data.status
        let rows: [(String, Int)] = [
            ("keywords", s.keywords), ("candidates", s.candidates), ("downloaded", s.downloadsOK),
            ("download failures", s.downloadsFailed.values.reduce(0, +)), ("images stored", s.imagesStored),
            ("kept (image × keyword)", s.imagesKept), ("dropped (rule decisions)", s.imagesDropped.values.reduce(0, +)),
            ("descriptions accepted", s.descriptionsAccepted), ("questions accepted", s.questionsAccepted),
            ("questions disputed (kept out)", s.judgements.disputedExcluded),
            ("LLM requests", s.llmRequests), ("LLM cache hits", s.llmCacheHits),
            ("human review decisions in force", s.reviews.actions),
            ("images accepted by a reviewer", s.reviews.imagesAccepted), ("images rejected by a reviewer", s.reviews.imagesRejected),
            ("images relabelled", s.reviews.imagesRelabelled),
            ("texts edited by a reviewer", s.reviews.descriptionsEdited + s.reviews.questionsEdited),
        ]
        let cells = rows.map { "<tr><td>\(HTML.escape($0.0))</td><td class=\"n\">\($0.1)</td></tr>" }.joined()
        return "<h2 id=\"funnel\">Funnel</h2><table class=\"funnel\">\(cells)</table>"
    }

    private func reasonTable(_ title: String, _ counts: [String: Int]) -> String {
        guard !counts.isEmpty else { return "" }
        let rows = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "<tr><td>\(HTML.escape($0.key))</td><td>\($0.value)</td></tr>" }.joined()
        return "<h3>\(HTML.escape(title))</h3><table>\(rows)</table>"
    }

    private func failures() -> String {
        let parts = [
            reasonTable("Download failures by reason", data.status.downloadsFailed),
            reasonTable("Images dropped by rule", data.status.imagesDropped),
            reasonTable("Descriptions rejected by reason", data.status.descriptionsRejected),
            reasonTable("Questions rejected by reason", data.status.questionsRejected),
        ].joined()
        return parts.isEmpty ? "" : "<h2 id=\"reasons\">Reasons</h2>\(parts)"
    }

    /// What the relevance judge took each keyword's images for; a keyword mostly taken for one sibling is marked.
    private func relevance() -> String {
        let table = data.status.relevance
        guard !table.isEmpty else { return "" }
        let flagged = Set(table.likelyLabelErrors.map(\.keyword))
        let rows = table.rows.values.sorted { $0.keyword < $1.keyword }.map { row -> String in
            let siblings = row.takenFor.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\(HTML.escape($0.key)) \($0.value)" }.joined(separator: ", ")
            let mark = flagged.contains(row.keyword) ? " <strong>likely label error</strong>" : ""
            return "<tr><td>\(HTML.escape(row.keyword))\(mark)</td><td>\(row.judged)</td><td>\(row.shown)</td><td>\(siblings)</td><td>\(row.none)</td><td>\(row.lowConfidence)</td></tr>"
        }.joined()
        return """
            <h2 id="relevance">Relevance</h2>
            <p class="muted">what the relevance judge took each keyword's images for (the dropped images, with the judge's reason, are in the grids below)</p>
            <table><tr><th>keyword</th><th>judged</th><th>shown as itself</th><th>taken for</th><th>none</th><th>unsure</th></tr>\(rows)</table>
            """
    }

    private func histograms() -> String {
        guard !data.shortSides.isEmpty else { return "" }
        let maxSide = max(data.shortSides.max() ?? 1, Double(thresholds.minShortSide ?? 0) * 1.5, 1)
        let sizes = SVGHistogram(title: "Shorter side (px)", values: data.shortSides, bins: 24, range: 0...maxSide,
                                 thresholds: thresholds.minShortSide.map { [("min \($0)", Double($0))] } ?? [])
        var aspectThresholds: [(String, Double)] = []
        if let (lo, hi) = thresholds.aspectRatio { aspectThresholds = [("min \(lo)", lo), ("max \(hi)", hi)] }
        let aspects = SVGHistogram(title: "Aspect ratio (W/H)", values: data.aspectRatios, bins: 24, range: 0...3,
                                   thresholds: aspectThresholds)
        return """
            <h2 id="histograms">Sizes and aspect ratios</h2>
            <h3>Shorter side (px)</h3>\(sizes.render())
            <h3>Aspect ratio (W/H)</h3>\(aspects.render())
            """
    }

    private func keywordGrids() -> String {
        var out = ["<h2 id=\"images\">Images per keyword</h2>",
                   "<p class=\"muted\">green: kept · red: dropped (the rule is in the caption and on hover) · grey: not filtered yet</p>"]
        for keyword in data.keywords {
            let kept = keyword.images.filter(\.kept).count
            out.append("<h3>\(HTML.escape(keyword.text)) <span class=\"muted\">\(kept) kept of \(keyword.images.count)\(keyword.category.map { " · " + HTML.escape($0) } ?? "")</span></h3>")
            guard !keyword.images.isEmpty else {
                out.append("<p class=\"muted\">no images</p>")
                continue
            }
            out.append("<div class=\"grid\">")
            for image in keyword.images {
                let cls: String
                let caption: String
                if let dropped = image.dropped {
                    if dropped.isEmpty {
                        cls = "kept"
                        caption = "kept · \(image.width)×\(image.height) \(image.format)"
                    } else {
                        cls = "dropped"
                        caption = dropped.map { "\($0.rule): \($0.reason)" }.joined(separator: "; ")
                    }
                } else {
                    cls = "undecided"
                    caption = "not filtered · \(image.width)×\(image.height) \(image.format)"
                }
                let picture = thumbnails.contains(image.sha256)
                    ? "<img src=\"thumbs/\(image.sha256).jpg\" alt=\"\(HTML.escape(keyword.text))\" loading=\"lazy\">"
                    : "<div class=\"noimg\">no thumbnail</div>"
                out.append("<figure class=\"\(cls)\" title=\"\(HTML.escape(caption))\" data-sha256=\"\(image.sha256)\">\(picture)<figcaption>\(HTML.escape(caption))</figcaption></figure>")
            }
            out.append("</div>")
        }
        return out.joined(separator: "\n")
    }

    private func descriptions() -> String {
        guard !data.descriptionSamples.isEmpty else { return "" }
        var out = ["<h2 id=\"descriptions\">Descriptions</h2>"]
        for aspect in data.descriptionSamples.keys.sorted() {
            let lengths = data.descriptionLengths[aspect] ?? []
            let maxLen = max(lengths.max() ?? 1, 1)
            let hist = SVGHistogram(title: "\(aspect) length (characters)", values: lengths, bins: 20, range: 0...maxLen, thresholds: [])
            out.append("<h3>\(HTML.escape(aspect)) <span class=\"muted\">\(lengths.count) accepted</span></h3>")
            out.append(hist.render())
            for sample in data.descriptionSamples[aspect] ?? [] {
                out.append("<div class=\"sample\"><b>\(HTML.escape(sample.title))</b>\n\(HTML.escape(sample.text))</div>")
            }
        }
        return out.joined(separator: "\n")
    }

    private func questions() -> String {
        guard !data.questionSamples.isEmpty else { return "" }
        let letters = data.answerLetters.keys.sorted()
        let total = max(data.answerLetters.values.reduce(0, +), 1)
        let bars = letters.map { l -> String in
            let n = data.answerLetters[l] ?? 0
            return "<tr><td>\(l)</td><td>\(n)</td><td>\(String(format: "%.1f", 100 * Double(n) / Double(total)))%</td></tr>"
        }.joined()
        var out = ["<h2 id=\"questions\">Questions</h2>", "<h3>Answer letters</h3><table><tr><th>letter</th><th>n</th><th>share</th></tr>\(bars)</table>"]
        for q in data.questionSamples {
            // `-> String` matters: untyped, the closure was inferred to build GRDB's `SQL` (string-interpolatable,
            // with its own `joined(separator:)`) and the report showed `SQL(elements: [GRDB.SQL.Element…`.
            let options: String = q.options.enumerated().map { i, o -> String in
                let letter = HTML.letter(i)
                return i == q.answer ? "<b>\(letter). \(HTML.escape(o))</b>" : "\(letter). \(HTML.escape(o))"
            }.joined(separator: "<br>")
            let answer = q.answer < q.options.count ? HTML.letter(q.answer) : "?"
            out.append("<div class=\"sample\"><i>Type \(q.type)</i> \(HTML.escape(q.question))<br>\(options)<br><i>answer: \(answer)</i></div>")
        }
        return out.joined(separator: "\n")
    }

    /// The judges' verdicts, then each disputed question and each description rejected as unfaithful beside its
    /// image, with the verifier's reason.
    private func judgements() -> String {
        let counts = data.status.judgements
        guard !counts.isEmpty || !data.disputedQuestions.isEmpty || !data.unfaithfulDescriptions.isEmpty else { return "" }
        var out = ["<h2 id=\"judgements\">Judgements</h2>"]
        for judge in counts.verdicts.keys.sorted() {
            let verdicts = counts.verdicts[judge] ?? [:]
            let known = Judge(rawValue: judge)?.verdicts.map(\.rawValue) ?? verdicts.keys.sorted()
            let header = known.map { "<th>\(HTML.escape($0))</th>" }.joined()
            var rows = "<tr><td><b>all</b></td>" + known.map { "<td>\(verdicts[$0] ?? 0)</td>" }.joined() + "</tr>"
            for (keyword, byVerdict) in (counts.byKeyword[judge] ?? [:]).sorted(by: { $0.key < $1.key }) {
                rows += "<tr><td>\(HTML.escape(keyword.isEmpty ? "(no keyword)" : keyword))</td>" + known.map { "<td>\(byVerdict[$0] ?? 0)</td>" }.joined() + "</tr>"
            }
            out.append("<h3>\(HTML.escape(judge))</h3><table><tr><th>keyword</th>\(header)</tr>\(rows)</table>")
        }
        if !data.disputedQuestions.isEmpty {
            out.append("<h3>Disputed questions <span class=\"muted\">\(counts.disputedExcluded) kept out of training and test, \(counts.disputedKept) kept by mcq.keep_disputed</span></h3>")
            for q in data.disputedQuestions {
                let options: String = q.options.enumerated().map { i, o -> String in
                    let letter = HTML.letter(i)
                    return i == q.key ? "<b>\(letter). \(HTML.escape(o))</b>" : "\(letter). \(HTML.escape(o))"
                }.joined(separator: "<br>")
                let state = q.status == "disputed" ? "kept out" : "kept (mcq.keep_disputed)"
                let text = "<i>Type \(q.type) · \(HTML.escape(q.keyword)) · \(HTML.escape(q.id)) · \(state)</i><br>\(HTML.escape(q.question))<br>\(options)"
                    + "<br><i>key: \(HTML.letter(q.key)) · verifier: \(HTML.escape(q.verifierAnswer)) (\(HTML.escape(q.dispute)))</i> — \(HTML.escape(q.reason))"
                out.append(judged(image: q.imageSHA256, caption: q.keyword, text: text))
            }
        }
        if !data.unfaithfulDescriptions.isEmpty {
            out.append("<h3>Descriptions rejected as unfaithful <span class=\"muted\">\(data.unfaithfulDescriptions.count)</span></h3>")
            for d in data.unfaithfulDescriptions {
                let text = "<i>\(HTML.escape(d.keyword)) · \(HTML.escape(d.aspect)) · \(HTML.escape(d.mode))</i><br><b>\(HTML.escape(d.detail))</b><br>\(HTML.escape(d.text))"
                out.append(judged(image: d.imageSHA256, caption: d.keyword, text: text))
            }
        }
        return out.joined(separator: "\n")
    }

    /// One judged item: its image's thumbnail (when it has one) beside the text.
    private func judged(image sha: String, caption: String, text: String) -> String {
        let picture: String
        if sha.isEmpty {
            picture = "<div class=\"noimg\">no image</div>"
        } else if thumbnails.contains(sha) {
            picture = "<img src=\"thumbs/\(sha).jpg\" alt=\"\(HTML.escape(caption))\" loading=\"lazy\">"
        } else {
            picture = "<div class=\"noimg\">no thumbnail</div>"
        }
        return "<div class=\"judged\" data-sha256=\"\(sha)\"><figure class=\"dropped\">\(picture)</figure><div class=\"sample\">\(text)</div></div>"
    }

    private func evaluations() -> String {
        guard !data.evalRows.isEmpty else { return "" }
        func acc(_ any: Any?) -> String {
            guard let d = any as? [String: Any], let a = d["accuracy"] as? Double else { return "–" }
            return String(format: "%.1f%% (n=%d)", a * 100, d["n"] as? Int ?? 0)
        }
        let rows = data.evalRows.map { row -> String in
            let byType = row.result["by_type"] as? [String: Any]
            return "<tr><td>\(HTML.escape(row.label ?? row.model))</td><td>\(HTML.escape(row.condition))\(row.circular ? " (circular)" : "")</td><td>\(acc(byType?["1"]))</td><td>\(acc(byType?["2"]))</td><td>\(acc(row.result["overall"]))</td></tr>"
        }.joined()
        return "<h2 id=\"eval\">Evaluation</h2><table><tr><th>model</th><th>condition</th><th>Type 1</th><th>Type 2</th><th>overall</th></tr>\(rows)</table>"
    }
}
