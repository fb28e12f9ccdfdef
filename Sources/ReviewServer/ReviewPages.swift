import Dataset
import Foundation

/// The review app's HTML: plain server-rendered pages and one small script (`ReviewScript`). Every link, form,
/// image and script is relative, so it stays under the session's capability path `/s/<token>/`.
enum ReviewPages {
    /// `HTMLText.escape`: the report's escaper, secrets masked.
    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    static func query(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    static func page(title: String, progress: (reviewed: Int, total: Int), body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>\(escape(title)) — dsbuild review</title>
        <style>
        body{font:14px system-ui,sans-serif;margin:0 1em 3em}header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.5em 0;display:flex;gap:1em;align-items:center}
        table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
        .grid{display:flex;flex-wrap:wrap;gap:.6em}.card{width:200px;border:2px solid #ddd;padding:.3em;font-size:12px}
        .card.current{border-color:#06c}.card.selected{background:#eef5ff}.card.accept{outline:3px solid #2a2}.card.reject{outline:3px solid #c22}
        .card img{width:192px;height:192px;object-fit:contain;background:#f4f4f4}.muted{color:#777}.need{color:#a50}
        .item{border:2px solid #ddd;margin:.4em 0;padding:.4em}.item.current{border-color:#06c}
        #msg{color:#a00}kbd{border:1px solid #aaa;border-radius:3px;padding:0 .3em}
        </style></head><body>
        <header><a href="./">keywords</a><span id="progress">reviewed \(progress.reviewed) / \(progress.total)</span>
        <form method="get" action="next"><button id="next-unreviewed">next unreviewed</button></form>
        <span class="muted">j/k move · a accept · r reject · l relabel · u undo · x select · e edit</span><span id="msg"></span></header>
        \(body)
        <script src="app.js"></script>
        </body></html>
        """
    }

    static func pager(path: String, params: [(String, String)], page: Int, hasMore: Bool) -> String {
        var out = "<p>"
        if page > 0 { out += "<a rel=\"prev\" href=\"\(path)?\(query(params + [("page", "\(page - 1)")]))\">← previous</a> " }
        out += "page \(page + 1)"
        if hasMore { out += " <a rel=\"next\" href=\"\(path)?\(query(params + [("page", "\(page + 1)")]))\">next →</a>" }
        return out + "</p>"
    }

    static func keywordList(rows: [ReviewQueries.KeywordRow], total: Int, sort: ReviewQueries.Sort, category: String?,
                            needsReview: Bool, page: Int, pageSize: Int) -> String {
        let base: [(String, String)] = [("category", category ?? ""), ("needs", needsReview ? "1" : "")]
        var html = """
            <h1>Keywords (\(total))</h1>
            <form method="get" action="./">category <input name="category" value="\(escape(category ?? ""))">
            <label><input type="checkbox" name="needs" value="1"\(needsReview ? " checked" : "")> needs review</label>
            <input type="hidden" name="sort" value="\(sort.rawValue)"><button>filter</button></form>
            <table id="keywords"><tr>
            """
        for key in ReviewQueries.Sort.allCases {
            html += "<th><a href=\"./?\(query(base + [("sort", key.rawValue)]))\">\(key.rawValue)</a></th>"
        }
        html += "<th>category</th><th>needs review</th><th></th></tr>"
        for row in rows {
            let k = query([("k", row.text)])
            html += """
                <tr class="kw"><td><a href="keyword?\(k)">\(escape(row.text))</a></td><td>\(row.candidates)</td><td>\(row.kept)</td>
                <td>\(row.dropped)</td><td>\(row.reviewed) / \(row.images)</td><td>\(escape(row.category))</td>
                <td class="need">\(escape(row.needsReview.joined(separator: ", ")))</td>
                <td><a href="descriptions?\(k)">descriptions</a> · <a href="questions?\(k)">questions</a></td></tr>
                """
        }
        html += "</table>"
        html += pager(path: "./", params: base + [("sort", sort.rawValue)], page: page, hasMore: (page + 1) * pageSize < total)
        return html
    }

    static func keywordHeader(_ row: ReviewQueries.KeywordRow, current: String) -> String {
        let k = query([("k", row.text)])
        return """
            <h1 id="keyword" data-keyword="\(escape(row.text))">\(escape(row.text))</h1>
            <p>\(row.category.isEmpty ? "" : escape(row.category) + " · ")candidates \(row.candidates) · kept \(row.kept) · dropped \(row.dropped) ·
            reviewed <span id="kw-progress">\(row.reviewed) / \(row.images)</span> ·
            \(current == "images" ? "<b>images</b>" : "<a href=\"keyword?\(k)\">images</a>") ·
            \(current == "descriptions" ? "<b>descriptions</b>" : "<a href=\"descriptions?\(k)\">descriptions</a>") ·
            \(current == "questions" ? "<b>questions</b>" : "<a href=\"questions?\(k)\">questions</a>")</p>
            """
    }

    static func images(_ keyword: ReviewQueries.KeywordRow, rows: [ReviewQueries.ImageRow], page: Int, pageSize: Int, unreviewed: Bool) -> String {
        var html = keywordHeader(keyword, current: "images")
        html += "<div id=\"relabel\" hidden><input id=\"relabel-input\" list=\"relabel-options\" placeholder=\"relabel to keyword…\" autocomplete=\"off\"><datalist id=\"relabel-options\"></datalist> <button id=\"relabel-go\">relabel</button></div>"
        html += "<div class=\"grid\">"
        for row in rows {
            let human = row.human.map { " \($0)" } ?? ""
            html += """
                <div class="card review-item\(human)" data-kind="image" data-sha="\(row.sha256)">
                <a href="image/\(row.sha256)" target="_blank"><img loading="lazy" alt="image \(row.sha256.prefix(12))" src="thumb/\(row.sha256)"></a>
                <div><b class="state">\(row.human.map { "human: \($0)" } ?? row.automated)</b> · \(row.width ?? 0)×\(row.height ?? 0) \(escape(row.format ?? ""))</div>
                <div class="muted">\(row.decisions.map(escape).joined(separator: "<br>"))</div>
                <div>\(escape(row.source ?? "")) · \(escape(row.license ?? "")) · \(escape(row.author ?? ""))</div>
                </div>
                """
        }
        html += "</div>"
        html += pager(path: "keyword", params: [("k", keyword.text), ("unreviewed", unreviewed ? "1" : "")], page: page, hasMore: rows.count == pageSize)
        return html
    }

    static func descriptions(_ keyword: ReviewQueries.KeywordRow, rows: [ReviewQueries.DescriptionRow], page: Int, pageSize: Int) -> String {
        var html = keywordHeader(keyword, current: "descriptions")
        for row in rows {
            html += """
                <div class="item review-item\(row.human.map { " \($0 == "accepted" ? "accept" : "reject")" } ?? "")" data-kind="description" data-id="\(row.id)"
                 data-text="\(escape(row.text))">
                <div><b class="state">\(escape(row.status))</b>\(row.reason.map { " (\(escape($0)))" } ?? "") · \(escape(row.aspect)) · \(escape(row.mode)) ·
                \(escape(row.language)) · \(escape(row.model))\(row.imageSHA256.isEmpty ? "" : " · image \(row.imageSHA256.prefix(12))")</div>
                <p class="text">\(escape(row.text))</p></div>
                """
        }
        html += pager(path: "descriptions", params: [("k", keyword.text)], page: page, hasMore: rows.count == pageSize)
        html += """
            <form id="edit-text-form" hidden><h3>Edit description <span id="edit-text-id"></span></h3>
            <p><textarea id="edit-text" rows="6" cols="80"></textarea></p>
            <p><button id="edit-text-save" type="submit">save new version</button> <button id="edit-text-cancel" type="button">cancel</button></p></form>
            """
        return html
    }

    static func questions(_ keyword: ReviewQueries.KeywordRow, rows: [ReviewQueries.QuestionRow], page: Int, pageSize: Int) -> String {
        var html = keywordHeader(keyword, current: "questions")
        for row in rows {
            let options = row.options.enumerated().map { i, o in
                "<li\(i == row.answer ? " class=\"key\"" : "")>\(escape(o))\(i == row.answer ? " ← key" : "")</li>"
            }.joined()
            html += """
                <div class="item review-item\(row.human.map { " \($0 == "accepted" ? "accept" : "reject")" } ?? "")" data-kind="question" data-id="\(escape(row.id))"
                 data-question="\(escape(row.question))" data-options="\(escape(row.options.joined(separator: "\n")))" data-answer="\(row.answer)">
                <div><b class="state">\(escape(row.status))</b>\(row.reason.map { " (\(escape($0)))" } ?? "") · type \(row.type) · split \(escape(row.split)) ·
                \(escape(row.origin)) · verifier: \(escape(row.verdict ?? "—")) · <span class="muted">\(escape(row.id))</span></div>
                <p class="q">\(escape(row.question))</p><ol type="A">\(options)</ol></div>
                """
        }
        html += pager(path: "questions", params: [("k", keyword.text)], page: page, hasMore: rows.count == pageSize)
        html += """
            <form id="edit-form" hidden><h3>Edit question <span id="edit-id"></span></h3>
            <p><textarea id="edit-question" rows="2" cols="80"></textarea></p>
            <p>options, one a line:<br><textarea id="edit-options" rows="5" cols="80"></textarea></p>
            <p>answer (A, B, …) <input id="edit-answer" size="2"> <button id="edit-save" type="submit">save new version</button>
            <button id="edit-cancel" type="button">cancel</button></p></form>
            """
        return html
    }
}
