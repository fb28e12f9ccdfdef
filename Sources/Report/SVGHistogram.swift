import Dataset
import Foundation

/// An inline SVG bar chart of values in fixed bins, with threshold lines drawn where the filter cuts.
struct SVGHistogram {
    let title: String
    let values: [Double]
    let bins: Int
    let range: ClosedRange<Double>
    let thresholds: [(label: String, value: Double)]
    var width = 480.0
    var height = 160.0

    func render() -> String {
        var counts = Array(repeating: 0, count: bins)
        let span = range.upperBound - range.lowerBound
        for v in values {
            let clamped = min(max(v, range.lowerBound), range.upperBound)
            let index = min(bins - 1, Int((clamped - range.lowerBound) / span * Double(bins)))
            counts[index] += 1
        }
        let maxCount = max(counts.max() ?? 1, 1)
        let plotHeight = height - 30
        let barWidth = width / Double(bins)
        var parts: [String] = []
        parts.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">")
        parts.append("<title>\(HTML.escape(title))</title>")
        for (i, c) in counts.enumerated() where c > 0 {
            let h = plotHeight * Double(c) / Double(maxCount)
            let x = Double(i) * barWidth
            let lo = range.lowerBound + span * Double(i) / Double(bins)
            let hi = lo + span / Double(bins)
            parts.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4a7ab5\"><title>%@–%@: %d</title></rect>",
                                x + 1, plotHeight - h, max(barWidth - 2, 1), h, Self.fmt(lo), Self.fmt(hi), c))
        }
        for t in thresholds where range.contains(t.value) {
            let x = (t.value - range.lowerBound) / span * width
            parts.append(String(format: "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>", x, x, plotHeight))
            parts.append(String(format: "<text x=\"%.1f\" y=\"12\" font-size=\"11\" fill=\"#c0392b\">%@</text>", min(x + 3, width - 90), HTML.escape(t.label)))
        }
        parts.append(String(format: "<line x1=\"0\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>", plotHeight, width, plotHeight))
        parts.append(String(format: "<text x=\"0\" y=\"%.1f\" font-size=\"11\">%@</text>", height - 8, Self.fmt(range.lowerBound)))
        parts.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%@</text>", width, height - 8, Self.fmt(range.upperBound)))
        parts.append("</svg>")
        return parts.joined()
    }

    static func fmt(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v)
    }
}
